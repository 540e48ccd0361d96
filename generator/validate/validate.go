package validate

import (
	"fmt"
	"regexp"

	"github.com/Masterminds/semver/v3"

	"github.com/airkube/airkube/generator/apis/v1alpha1"
	"github.com/airkube/airkube/generator/diag"
)

// Locator says where a field path was written.
type Locator func(path string) diag.Location

// The executor names, as the spec's types define them (short, for the checks and their messages).
const (
	Local            = v1alpha1.LocalExecutor
	Celery           = v1alpha1.CeleryExecutor
	Kubernetes       = v1alpha1.KubernetesExecutor
	CeleryKubernetes = v1alpha1.CeleryKubernetesExecutor
)

var (
	dnsLabel      = regexp.MustCompile(`^[a-z0-9]([-a-z0-9]*[a-z0-9])?$`)
	dnsSubdomain  = regexp.MustCompile(`^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$`)
	postgresModes = []string{"disable", "allow", "prefer", "require", "verify-ca", "verify-full"}
	mysqlModes    = []string{"DISABLED", "PREFERRED", "REQUIRED", "VERIFY_CA", "VERIFY_IDENTITY"}
)

// maxNameLen keeps every derived object name ("<name>-worker-<group>") within 63.
const maxNameLen = 30

type checker struct {
	locate   Locator
	problems diag.List
	// names maps a list item's path ("taskGroups[1]") to its name, shown beside the index.
	names map[string]string
}

// name makes problems about the list item at path say which item it is: "taskGroups[1] (fortran)".
func (c *checker) name(path, name string) {
	if c.names == nil {
		c.names = map[string]string{}
	}
	if name != "" {
		c.names[path] = name
	}
}

// itemName checks the name of a list item that others refer to by it: a DNS label of at most max
// characters, unique in its list (seen); problems about the item then say its name.
func (c *checker) itemName(path, kind, name string, max int, seen map[string]bool) {
	c.name(path, name)
	c.label(path+".name", name, max)
	if seen[name] {
		c.errorf(path+".name", "%q names another %s too; names must be unique", name, kind)
	}
	seen[name] = true
}

// shown is path as a user reads it: each named list item followed by its name.
func (c *checker) shown(path string) string {
	for i := 0; i < len(path); i++ {
		if path[i] != ']' {
			continue
		}
		if n, ok := c.names[path[:i+1]]; ok {
			path = path[:i+1] + " (" + n + ")" + path[i+1:]
			i += len(n) + 3
		}
	}
	return path
}

func (c *checker) errorf(path, format string, args ...any) {
	c.problems = append(c.problems, diag.Problem{Location: c.locate(path), Path: c.shown(path), Message: fmt.Sprintf(format, args...)})
}

func (c *checker) warnf(path, format string, args ...any) {
	c.problems = append(c.problems, diag.Problem{Location: c.locate(path), Path: c.shown(path), Message: fmt.Sprintf(format, args...), Warning: true})
}

// Validate returns every problem of a defaulted release, sorted by place.
func Validate(r *v1alpha1.AirflowRelease, locate Locator) diag.List {
	c := &checker{locate: locate}
	c.header(r)
	major := c.version(r.Airflow.Version)
	executors := c.executors(r, major)
	c.database(&r.Database)
	c.broker(r, executors)
	c.storage(r, major)
	c.kubernetesAPI(r, executors)
	c.components(r, major)
	c.auth(&r.Auth, major)
	c.connections(&r.Airflow)
	c.xcom(r, major)
	c.ui(&r.UI)
	c.networkPolicy(r)
	c.metrics(r)
	c.taskGroups(r, executors)
	c.dataVolumes(r) // after taskGroups, which names the groups for messages
	c.allPodOptions(r)
	c.airflowConfig(r.Airflow.Config, r.Airflow.Version, ManagedKeys(r))
	c.problems.Sort()
	return c.problems
}

func (c *checker) header(r *v1alpha1.AirflowRelease) {
	if r.APIVersion != v1alpha1.APIVersion {
		c.errorf("apiVersion", "%q is not supported; use %s", r.APIVersion, v1alpha1.APIVersion)
	}
	if r.Kind != v1alpha1.Kind {
		c.errorf("kind", "%q is not supported; use %s", r.Kind, v1alpha1.Kind)
	}
	c.label("metadata.name", r.Metadata.Name, maxNameLen)
	c.label("metadata.namespace", r.Metadata.Namespace, 63)
	c.image("airflow.image", r.Airflow.Image)
	if p := r.Airflow.ImagePullPolicy; p != "Always" && p != "IfNotPresent" && p != "Never" {
		c.errorf("airflow.imagePullPolicy", "%q is not one of Always, IfNotPresent, Never", p)
	}
	if *r.Airflow.UID == 0 {
		c.errorf("airflow.uid", "0 (root) breaks the restricted Pod Security Standard; use the uid that owns your NAS export, e.g. 50000")
	}
}

func (c *checker) label(path, v string, max int) {
	switch {
	case v == "":
		c.errorf(path, "required: a DNS label (lower-case letters, digits and '-')")
	case len(v) > max || !dnsLabel.MatchString(v):
		c.errorf(path, "%q is not a DNS label of at most %d characters (lower-case letters, digits and '-', starting and ending with a letter or digit)", v, max)
	}
}

// version returns the Airflow major version, 0 when unsupported.
func (c *checker) version(v string) uint64 {
	sv, err := semver.StrictNewVersion(v)
	if err != nil {
		c.errorf("airflow.version", "%q is not a version like 3.3.2; supported are 2.11.x and 3.0.x to 3.3.x", v)
		return 0
	}
	if (sv.Major() == 2 && sv.Minor() == 11) || (sv.Major() == 3 && sv.Minor() <= 3) {
		return sv.Major()
	}
	c.errorf("airflow.version", "%s is not supported; supported are 2.11.x and 3.0.x to 3.3.x", v)
	return 0
}

// custom stands for any custom executor where a group's executor kind is switched on.
const custom = "custom"

func (c *checker) secretKey(path string, s *v1alpha1.SecretKey) {
	if s.Name == "" {
		c.errorf(path+".name", "required: the Secret's name")
	}
	if s.Key == "" {
		c.errorf(path+".key", "required: the key in the Secret")
	}
}

func contains(list []string, s string) bool {
	for _, v := range list {
		if v == s {
			return true
		}
	}
	return false
}
