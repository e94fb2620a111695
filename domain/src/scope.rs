//! The scopes a GitLab token can carry: what it may do, whatever its role allows.

use serde::{Deserialize, Serialize};
use strum::{Display, EnumString, IntoStaticStr, VariantArray};

use crate::{ParseError, TokenKind, enums::all};

/// A GitLab token scope, spelled as GitLab spells it (`read_api`, `write_repository`, …).
///
/// The order is the order GitLab lists them in, from the API to the registries to the rest, and
/// it is the order in which the product shows a token's scopes.
///
/// Read from JSON by its name like every other value (`FromStr`), so a name GitLab does not have
/// is refused with the message people read (`"x" is not a known token scope`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case", try_from = "String")]
#[derive(Display, EnumString, IntoStaticStr, VariantArray)]
#[strum(serialize_all = "snake_case", parse_err_ty = ParseError, parse_err_fn = Self::unknown)]
pub enum Scope {
    Api,
    ReadApi,
    ReadRepository,
    WriteRepository,
    ReadRegistry,
    WriteRegistry,
    ReadPackageRegistry,
    WritePackageRegistry,
    ReadVirtualRegistry,
    WriteVirtualRegistry,
    ReadUser,
    SelfRotate,
    CreateRunner,
    ManageRunner,
    AiFeatures,
    K8sProxy,
    ReadServicePing,
    AdminMode,
    Sudo,
}

impl Scope {
    pub const ALL: [Scope; 19] = all(Self::VARIANTS);

    /// GitLab's name for the scope, as its API and its settings pages spell it.
    pub fn as_str(self) -> &'static str {
        self.into()
    }

    fn unknown(value: &str) -> ParseError {
        ParseError::new("token scope", value)
    }

    /// What the scope lets a token do, in a few words.
    pub fn label(self) -> &'static str {
        match self {
            Scope::Api => "Read and write the whole API, the registries and the repository",
            Scope::ReadApi => "Read the API, the repository and the container registry",
            Scope::ReadRepository => "Clone and pull the Git repository",
            Scope::WriteRepository => "Clone, pull and push the Git repository",
            Scope::ReadRegistry => "Pull container images",
            Scope::WriteRegistry => "Push container images",
            Scope::ReadPackageRegistry => "Download packages",
            Scope::WritePackageRegistry => "Publish packages",
            Scope::ReadVirtualRegistry => "Read through the virtual registry",
            Scope::WriteVirtualRegistry => "Write through the virtual registry",
            Scope::ReadUser => "Read the token owner's profile",
            Scope::SelfRotate => "Rotate the token itself",
            Scope::CreateRunner => "Create runners",
            Scope::ManageRunner => "Manage runners",
            Scope::AiFeatures => "Use AI features",
            Scope::K8sProxy => "Use the Kubernetes agent proxy",
            Scope::ReadServicePing => "Read Service Ping data (administrators)",
            Scope::AdminMode => "Act in Admin Mode (administrators)",
            Scope::Sudo => "Act as other users (administrators)",
        }
    }

    /// Only reads: granting it never lets a token change anything.
    pub fn is_read_only(self) -> bool {
        matches!(
            self,
            Scope::ReadApi
                | Scope::ReadRepository
                | Scope::ReadRegistry
                | Scope::ReadPackageRegistry
                | Scope::ReadVirtualRegistry
                | Scope::ReadUser
                | Scope::ReadServicePing
        )
    }

    /// Whether GitLab lets a token of this kind carry the scope.
    ///
    /// Deploy tokens have their own short list (the virtual registry scopes exist for project
    /// deploy tokens only); project and group access tokens share the personal access token
    /// scopes except the administrators' ones and `read_user` (group ones also the virtual
    /// registry); only deploy tokens have package registry scopes: access tokens reach packages
    /// through `read_api` or `api`. `Personal` is a service account's (or a person's) token.
    pub fn accepted_by(self, kind: TokenKind) -> bool {
        match kind {
            TokenKind::Deploy => matches!(
                self,
                Scope::ReadRepository
                    | Scope::ReadRegistry
                    | Scope::WriteRegistry
                    | Scope::ReadPackageRegistry
                    | Scope::WritePackageRegistry
                    | Scope::ReadVirtualRegistry
                    | Scope::WriteVirtualRegistry
            ),
            TokenKind::ProjectAccess => self.is_resource_token_scope(),
            TokenKind::GroupAccess => {
                self.is_resource_token_scope()
                    || matches!(self, Scope::ReadVirtualRegistry | Scope::WriteVirtualRegistry)
            }
            TokenKind::Personal => !matches!(self, Scope::ReadPackageRegistry | Scope::WritePackageRegistry),
        }
    }

    /// The scopes every project, group and personal access token may carry.
    fn is_resource_token_scope(self) -> bool {
        matches!(
            self,
            Scope::Api
                | Scope::ReadApi
                | Scope::ReadRepository
                | Scope::WriteRepository
                | Scope::ReadRegistry
                | Scope::WriteRegistry
                | Scope::SelfRotate
                | Scope::CreateRunner
                | Scope::ManageRunner
                | Scope::AiFeatures
                | Scope::K8sProxy
        )
    }
}

impl TryFrom<String> for Scope {
    type Error = ParseError;

    fn try_from(value: String) -> Result<Self, ParseError> {
        value.parse()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_scope_gitlab_does_not_have_is_refused_by_name_in_json() {
        let error = serde_json::from_str::<Scope>("\"read_api' OR 1=1\"").expect_err("not a scope");
        assert!(error.to_string().contains("is not a known token scope"), "{error}");
        assert_eq!(serde_json::from_str::<Scope>("\"read_api\"").ok(), Some(Scope::ReadApi));
    }

    #[test]
    fn scopes_are_spelled_as_gitlab_spells_them() {
        // Reading back every identifier: `enums::tests`.
        assert!(Scope::ALL.iter().all(|scope| !scope.label().is_empty()));
        let err = "write_api".parse::<Scope>().expect_err("not a scope");
        assert_eq!(err.to_string(), "\"write_api\" is not a known token scope");
        assert!("API".parse::<Scope>().is_err(), "GitLab's spelling is lower case");
    }

    #[test]
    fn all_lists_every_scope_once_in_order() {
        let mut sorted = Scope::ALL.to_vec();
        sorted.sort();
        sorted.dedup();
        assert_eq!(sorted, Scope::ALL.to_vec());
    }

    #[test]
    fn each_kind_accepts_the_scopes_gitlab_gives_it() {
        use Scope::*;
        // (scope, deploy, project access, group access, personal)
        let table = [
            (Api, false, true, true, true),
            (ReadApi, false, true, true, true),
            (ReadRepository, true, true, true, true),
            (WriteRepository, false, true, true, true),
            (ReadRegistry, true, true, true, true),
            (WriteRegistry, true, true, true, true),
            (ReadPackageRegistry, true, false, false, false),
            (WritePackageRegistry, true, false, false, false),
            (ReadVirtualRegistry, true, false, true, true),
            (WriteVirtualRegistry, true, false, true, true),
            (ReadUser, false, false, false, true),
            (SelfRotate, false, true, true, true),
            (CreateRunner, false, true, true, true),
            (ManageRunner, false, true, true, true),
            (AiFeatures, false, true, true, true),
            (K8sProxy, false, true, true, true),
            (ReadServicePing, false, false, false, true),
            (AdminMode, false, false, false, true),
            (Sudo, false, false, false, true),
        ];
        assert_eq!(table.len(), Scope::ALL.len());
        for (scope, deploy, project, group, personal) in table {
            assert_eq!(scope.accepted_by(TokenKind::Deploy), deploy, "{scope} deploy");
            assert_eq!(scope.accepted_by(TokenKind::ProjectAccess), project, "{scope} project");
            assert_eq!(scope.accepted_by(TokenKind::GroupAccess), group, "{scope} group");
            assert_eq!(scope.accepted_by(TokenKind::Personal), personal, "{scope} personal");
        }
    }

    #[test]
    fn read_only_scopes_are_the_read_ones() {
        for scope in Scope::ALL {
            assert_eq!(scope.is_read_only(), scope.as_str().starts_with("read_"), "{scope}");
        }
    }
}
