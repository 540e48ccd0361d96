package validate

import (
	"fmt"
	"regexp"
	"strings"

	"github.com/airkube/airkube/generator/apis/v1alpha1"
)

// username keeps out ':' and ',', which separate users and roles in simple_auth_manager_users.
var username = regexp.MustCompile(`^[A-Za-z0-9._@-]{1,64}$`)

// Roles each auth manager knows: SimpleAuthManager's four, and FAB's default roles.
var (
	simpleRoles = []string{"Admin", "Op", "User", "Viewer"}
	fabRoles    = []string{"Admin", "Op", "User", "Viewer", "Public"}
)

func (c *checker) auth(a *v1alpha1.Auth, major uint64) {
	fab := a.Manager == v1alpha1.AuthFAB
	switch {
	case a.Manager != v1alpha1.AuthFAB && a.Manager != v1alpha1.AuthSimple:
		c.errorf("auth.manager", "%q is not an auth manager airkube knows; use simple (SimpleAuthManager, Airflow 3) or fab (FAB)", a.Manager)
	case a.Manager == v1alpha1.AuthSimple && major == 2:
		c.errorf("auth.manager", "SimpleAuthManager is Airflow 3's; Airflow 2 logs in through FAB only: use fab or leave it out")
	}
	roles, manager := simpleRoles, "SimpleAuthManager"
	if fab {
		roles, manager = fabRoles, "FAB"
	}
	seen := map[string]bool{}
	for i, u := range a.Users {
		path := fmt.Sprintf("auth.users[%d]", i)
		c.name(path, u.Username)
		switch {
		case !username.MatchString(u.Username):
			c.errorf(path+".username", "%q is not a username of 1 to 64 letters, digits, '.', '_', '-' or '@'", u.Username)
		case seen[u.Username]:
			c.errorf(path+".username", "%q is listed twice", u.Username)
		}
		seen[u.Username] = true
		if !contains(roles, u.Role) {
			c.errorf(path+".role", "%q is not a role of %s; use one of %s", u.Role, manager, strings.Join(roles, ", "))
		}
		if u.PasswordSecret == nil {
			c.errorf(path+".passwordSecret", "required: {name, key} of the Secret holding the password")
		} else {
			c.secretKey(path+".passwordSecret", u.PasswordSecret)
		}
		if u.Email != "" && !fab {
			c.errorf(path+".email", "SimpleAuthManager keeps no email; remove it, or log in through FAB (auth.manager: fab)")
		}
		if u.Email != "" && !strings.Contains(u.Email, "@") {
			c.errorf(path+".email", "%q is not an email address", u.Email)
		}
	}
	if w := a.WebserverConfig; w != nil {
		if !fab {
			c.errorf("auth.webserverConfig", "webserver_config.py configures FAB, and this release logs in through SimpleAuthManager; set auth.manager: fab (the image needs apache-airflow-providers-fab)")
		}
		if w.Name == "" || w.Key == "" {
			c.errorf("auth.webserverConfig", "give name and key of the ConfigMap holding webserver_config.py")
		}
	}
	switch {
	case a.InsecureEveryoneIsAdmin && fab:
		c.errorf("auth.insecureEveryoneIsAdmin", "is SimpleAuthManager's simple_auth_manager_all_admins (Airflow 3), and this release logs in through FAB")
	case a.InsecureEveryoneIsAdmin && len(a.Users) > 0:
		c.errorf("auth.insecureEveryoneIsAdmin", "with everyone an admin there is no login, so auth.users would be ignored; keep one of them")
	case a.InsecureEveryoneIsAdmin:
		c.warnf("auth.insecureEveryoneIsAdmin", "anyone who reaches the api-server is an admin, with no login: only for throwaway test releases")
	case len(a.Users) == 0 && a.WebserverConfig == nil:
		c.warnf("auth.users", "nobody can log in with a known password: add users, e.g. [{username: admin, role: Admin, passwordSecret: {name: airflow-admin, key: password}}]")
	}
}
