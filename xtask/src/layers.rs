//! The crates depend one way: `domain` ← `db` ← `app` ← `server` (and `frontend` → `app`;
//! `gitlab-sim` and `xtask` stand alone). `cargo xtask lint` reads the workspace's dependencies
//! from `cargo metadata` and fails on any edge between workspace crates that is not listed here.

use anyhow::{Context, bail};
use std::{collections::BTreeSet, process::Command};

/// Each workspace crate and the workspace crates it may depend on (normal, build or dev).
pub const ALLOWED: &[(&str, &[&str])] = &[
    ("domain", &[]),
    ("db", &["domain"]),
    ("app", &["domain", "db"]),
    ("server", &["app", "db", "domain", "gitlab-sim"]),
    ("frontend", &["app"]),
    ("gitlab-sim", &[]),
    ("xtask", &[]),
    ("xtask-bindgen", &[]),
];

/// The edges between workspace crates that [`ALLOWED`] does not list, as `from → to`.
pub fn forbidden_edges(metadata: &serde_json::Value) -> anyhow::Result<Vec<String>> {
    let packages = metadata["packages"]
        .as_array()
        .context("cargo metadata has no packages")?;
    let members: BTreeSet<&str> = metadata["workspace_members"]
        .as_array()
        .context("cargo metadata has no workspace members")?
        .iter()
        .filter_map(|id| id.as_str())
        .collect();
    let names: BTreeSet<&str> = packages
        .iter()
        .filter(|package| package["id"].as_str().is_some_and(|id| members.contains(id)))
        .filter_map(|package| package["name"].as_str())
        .collect();
    let mut forbidden = Vec::new();
    for package in packages {
        let Some(from) = package["name"].as_str().filter(|name| names.contains(name)) else {
            continue;
        };
        let allowed = ALLOWED.iter().find(|(name, _)| *name == from).map(|(_, to)| *to);
        for dependency in package["dependencies"].as_array().into_iter().flatten() {
            let Some(to) = dependency["name"].as_str().filter(|name| names.contains(name)) else {
                continue;
            };
            match allowed {
                Some(allowed) if allowed.contains(&to) => {}
                Some(_) => forbidden.push(format!("{from} → {to}")),
                None => forbidden.push(format!("{from} → {to} ({from} is not in xtask/src/layers.rs)")),
            }
        }
    }
    forbidden.sort();
    forbidden.dedup();
    Ok(forbidden)
}

pub fn check() -> anyhow::Result<()> {
    let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".to_owned());
    let output = Command::new(cargo)
        .args(["metadata", "--format-version", "1", "--no-deps"])
        .output()
        .context("cannot run cargo metadata")?;
    if !output.status.success() {
        bail!("cargo metadata failed: {}", String::from_utf8_lossy(&output.stderr));
    }
    let metadata: serde_json::Value = serde_json::from_slice(&output.stdout).context("cargo metadata is not JSON")?;
    let forbidden = forbidden_edges(&metadata)?;
    if forbidden.is_empty() {
        println!("layers: the crates depend one way (domain ← db ← app ← server)");
        Ok(())
    } else {
        bail!(
            "a crate depends on one it must not (the layers are in xtask/src/layers.rs):\n  {}",
            forbidden.join("\n  ")
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn metadata(edges: &[(&str, &[&str])]) -> serde_json::Value {
        let packages: Vec<serde_json::Value> = edges
            .iter()
            .map(|(name, deps)| {
                serde_json::json!({
                    "id": format!("path+file:///w/{name}#0.1.0"),
                    "name": name,
                    "dependencies": deps.iter().map(|dep| serde_json::json!({ "name": dep })).chain([serde_json::json!({ "name": "serde" })]).collect::<Vec<_>>(),
                })
            })
            .collect();
        let members: Vec<String> = edges
            .iter()
            .map(|(name, _)| format!("path+file:///w/{name}#0.1.0"))
            .collect();
        serde_json::json!({ "packages": packages, "workspace_members": members })
    }

    #[test]
    fn the_layers_as_they_are_pass() {
        let ok = metadata(&[
            ("domain", &[]),
            ("db", &["domain"]),
            ("app", &["domain", "db"]),
            ("server", &["app", "db", "domain"]),
        ]);
        assert_eq!(forbidden_edges(&ok).ok(), Some(vec![]));
    }

    #[test]
    fn an_upward_edge_or_an_unknown_crate_is_refused() {
        let upward = metadata(&[("domain", &["db"]), ("db", &["domain", "app"]), ("app", &[])]);
        assert_eq!(
            forbidden_edges(&upward).ok(),
            Some(vec!["db → app".to_owned(), "domain → db".to_owned()])
        );
        let unknown = metadata(&[("reports", &["domain"]), ("domain", &[])]);
        assert_eq!(
            forbidden_edges(&unknown).ok(),
            Some(vec![
                "reports → domain (reports is not in xtask/src/layers.rs)".to_owned()
            ])
        );
    }
}
