"""Lists groups, projects and every token kind from gitlab-sim with python-gitlab, through its
normal pagination, and prints what it found as JSON. The Rust test compares that with the
simulator's ground truth (`GET /-/sim/world`).

usage: list_everything.py URL ADMIN_TOKEN
"""

import json
import sys

import gitlab


def main() -> None:
    url, token = sys.argv[1], sys.argv[2]
    gl = gitlab.Gitlab(url, private_token=token, per_page=100)
    gl.auth()
    version, _revision = gl.version()

    groups = list(gl.groups.list(iterator=True, all_available=True, order_by="id"))
    # Keyset pagination, as GitLab recommends for listing every project.
    projects = list(gl.projects.list(iterator=True, pagination="keyset", order_by="id", sort="asc"))

    project_access_tokens = []
    project_deploy_tokens = []
    for project in projects:
        project_access_tokens += [t.id for t in project.access_tokens.list(iterator=True)]
        project_deploy_tokens += [t.id for t in project.deploytokens.list(iterator=True)]
    group_access_tokens = []
    group_deploy_tokens = []
    service_accounts = []
    for group in groups:
        group_access_tokens += [t.id for t in group.access_tokens.list(iterator=True)]
        group_deploy_tokens += [t.id for t in group.deploytokens.list(iterator=True)]
        if group.parent_id is None:
            service_accounts += [a.id for a in group.service_accounts.list(iterator=True)]

    instance_deploy_tokens = [t.id for t in gl.deploytokens.list(iterator=True)]
    personal_access_tokens = [t.id for t in gl.personal_access_tokens.list(iterator=True)]
    users = list(gl.users.list(iterator=True))

    print(
        json.dumps(
            {
                "version": version,
                "groups": sorted(g.id for g in groups),
                "group_paths": sorted(g.full_path for g in groups),
                "projects": sorted(p.id for p in projects),
                "project_access_tokens": sorted(project_access_tokens),
                "group_access_tokens": sorted(group_access_tokens),
                "project_deploy_tokens": sorted(project_deploy_tokens),
                "group_deploy_tokens": sorted(group_deploy_tokens),
                "instance_deploy_tokens": sorted(instance_deploy_tokens),
                "personal_access_tokens": sorted(personal_access_tokens),
                "service_accounts": sorted(service_accounts),
                "users": sorted(u.id for u in users),
                "bots": sorted(u.id for u in users if u.bot),
            }
        )
    )


if __name__ == "__main__":
    main()
