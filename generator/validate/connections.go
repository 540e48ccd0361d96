package validate

import (
	"fmt"
	"regexp"
	"strings"

	"github.com/airkube/airkube/generator/apis/v1alpha1"
)

// envKey is what an id must be to make a portable env name (AIRFLOW_CONN_<ID>, AIRFLOW_VAR_<KEY>).
var envKey = regexp.MustCompile(`^[A-Za-z_][A-Za-z0-9_]*$`)

func (c *checker) connections(a *v1alpha1.Airflow) {
	seen := map[string]string{}
	check := func(path, kind, id string, s v1alpha1.SecretKey) {
		env := "AIRFLOW_" + kind + "_" + strings.ToUpper(id)
		switch {
		case !envKey.MatchString(id):
			c.errorf(path, "%q cannot name an env variable (%s_...): use letters, digits and '_', not starting with a digit", id, "AIRFLOW_"+kind)
		case seen[env] != "":
			c.errorf(path, "%q is %s, as %s is already (env names are upper case)", id, env, seen[env])
		}
		seen[env] = fmt.Sprintf("%q", id)
		c.secretKey(path[:strings.LastIndex(path, ".")]+".secret", &s)
	}
	for i, conn := range a.Connections {
		check(fmt.Sprintf("airflow.connections[%d].id", i), "CONN", conn.ID, conn.Secret)
	}
	for i, v := range a.Variables {
		check(fmt.Sprintf("airflow.variables[%d].key", i), "VAR", v.Key, v.Secret)
	}
	if b := a.SecretsBackend; b != nil {
		if len(strings.Split(b.Class, ".")) < 2 || strings.ContainsAny(b.Class, " :/") {
			c.errorf("airflow.secretsBackend.class", "%q is not a class path like airflow.providers.hashicorp.secrets.vault.VaultBackend", b.Class)
		}
		if b.KwargsSecret != nil {
			c.secretKey("airflow.secretsBackend.kwargsSecret", b.KwargsSecret)
		}
	}
}
