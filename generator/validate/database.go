package validate

import (
	"strings"
	"time"

	"github.com/airkube/airkube/generator/apis/v1alpha1"
)

func (c *checker) database(d *v1alpha1.Database) {
	if t, err := time.ParseDuration(d.Migration.Timeout); err != nil || t < time.Minute || t%time.Second != 0 {
		c.errorf("database.migration.timeout", "%q is not a duration of whole seconds, at least a minute, like 1h or 90m", d.Migration.Timeout)
	}
	modes, known := postgresModes, true
	switch d.Type {
	case "postgres":
	case "mysql":
		modes = mysqlModes
	default:
		known = false
		c.errorf("database.type", "%q is not a database airkube connects to; use postgres or mysql", d.Type)
	}
	if d.ConnectionSecret != nil {
		c.secretKey("database.connectionSecret", d.ConnectionSecret)
		for path, set := range map[string]bool{"host": d.Host != "", "name": d.Name != "", "user": d.User != "", "passwordSecret": d.PasswordSecret != nil, "sslMode": d.SSLMode != ""} {
			if set {
				c.errorf("database."+path, "cannot be set with connectionSecret, which holds the whole URI")
			}
		}
		return
	}
	for path, v := range map[string]string{"host": d.Host, "name": d.Name, "user": d.User} {
		if v == "" {
			c.errorf("database."+path, "required (or give connectionSecret with the whole URI)")
		}
	}
	if d.PasswordSecret == nil {
		c.errorf("database.passwordSecret", "required: {name, key} of the Secret holding the password (or give connectionSecret)")
	} else {
		c.secretKey("database.passwordSecret", d.PasswordSecret)
	}
	// An unknown type gets no default port: only a port the user wrote is checked.
	if (known || d.Port != 0) && (d.Port < 1 || d.Port > 65535) {
		c.errorf("database.port", "%d is not a port (1-65535)", d.Port)
	}
	if d.SSLMode != "" && !contains(modes, d.SSLMode) {
		c.errorf("database.sslMode", "%q is not an sslMode of %s; use one of %s", d.SSLMode, d.Type, strings.Join(modes, ", "))
	}
}
