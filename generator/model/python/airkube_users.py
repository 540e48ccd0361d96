"""Airflow users from Kubernetes Secrets (written by airkube).

    airkube_users.py simple FILE USERS   writes SimpleAuthManager's passwords file (Airflow 3)
    airkube_users.py fab USERS           creates or updates the FAB users in the database (Airflow 2)

USERS is a JSON list of {"username", "role", "email", "passwordEnv"}; each password is read from
the environment variable passwordEnv names, which Kubernetes fills from the user's Secret. No
password is ever printed or passed on a command line. Running it again with the same input
changes nothing; users not in USERS are left alone (they may come from LDAP or OIDC).
"""
import json
import os
import sys


def passwords(users):
    out = {}
    for u in users:
        pw = os.environ.get(u["passwordEnv"], "")
        if not pw:
            sys.exit("airkube_users: the password of %s is empty: check the Secret key in auth.users" % u["username"])
        out[u["username"]] = pw
    return out


def write_simple(path, users):
    """The whole file at once, readable by the api-server's user only."""
    data = json.dumps(passwords(users), sort_keys=True) + "\n"
    tmp = path + ".tmp"
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w") as f:
        f.write(data)
    os.replace(tmp, path)
    print("airkube_users: passwords of %s written to %s" % (", ".join(u["username"] for u in users), path))


def sync_fab(users):
    from werkzeug.security import check_password_hash

    from airflow.providers.fab.auth_manager.cli_commands.utils import get_application_builder

    pw = passwords(users)
    with get_application_builder() as ab:
        sm = ab.sm
        if any(sm.find_role(u["role"]) is None for u in users):
            sm.sync_roles()  # the default roles exist once the webserver or `airflow sync-perm` ran
        for u in users:
            name, role = u["username"], sm.find_role(u["role"])
            if role is None:
                sys.exit("airkube_users: role %s does not exist; roles: %s" % (
                    u["role"], ", ".join(sorted(r.name for r in sm.get_all_roles()))))
            user = sm.find_user(username=name)
            if user is None:
                if not sm.add_user(name, name, "-", u["email"], role, pw[name]):
                    sys.exit("airkube_users: FAB could not create %s" % name)
                print("airkube_users: %s created with role %s" % (name, role.name))
                continue
            changed = []
            if [r.name for r in user.roles] != [role.name]:
                user.roles = [role]
                changed.append("role " + role.name)
            if user.email != u["email"]:
                user.email = u["email"]
                changed.append("email")
            if not user.active:
                user.active = True
                changed.append("active")
            if changed:
                sm.update_user(user)
            if not check_password_hash(user.password, pw[name]):
                sm.reset_password(user.id, pw[name])
                changed.append("password")
            print("airkube_users: %s %s" % (name, "updated: " + ", ".join(changed) if changed else "unchanged"))


def main(argv):
    if len(argv) == 3 and argv[0] == "simple":
        write_simple(argv[1], json.loads(argv[2]))
    elif len(argv) == 2 and argv[0] == "fab":
        sync_fab(json.loads(argv[1]))
    else:
        sys.exit(__doc__)


if __name__ == "__main__":
    main(sys.argv[1:])
