package validate

import (
	"fmt"
	"net/url"
	"reflect"
	"regexp"
	"sort"
	"strings"
	"time"

	"github.com/Masterminds/semver/v3"
	"k8s.io/apimachinery/pkg/api/resource"
	"k8s.io/apimachinery/pkg/util/validation"

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

// remoteLogProviders names the provider package each remote log scheme's handler lives in.
var remoteLogProviders = map[string]string{
	"s3":         "apache-airflow-providers-amazon",
	"gs":         "apache-airflow-providers-google",
	"wasb":       "apache-airflow-providers-microsoft-azure",
	"oss":        "apache-airflow-providers-alibaba",
	"hdfs":       "apache-airflow-providers-apache-hdfs",
	"cloudwatch": "apache-airflow-providers-amazon",
}

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
	c.storage(&r.Storage)
	c.kubernetesAPI(r, executors)
	c.components(r, major)
	c.auth(&r.Auth, major)
	c.connections(&r.Airflow)
	c.xcom(r, major)
	c.ui(&r.UI)
	c.networkPolicy(&r.NetworkPolicy)
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

// executors checks the executor list and returns the kinds it runs.
func (c *checker) executors(r *v1alpha1.AirflowRelease, major uint64) v1alpha1.ExecutorSet {
	entries := r.Executors()
	names := map[string]bool{}
	for _, x := range entries {
		e := x.Entry
		switch {
		case e == CeleryKubernetes && major == 3:
			c.errorf("executor", "CeleryKubernetesExecutor was removed in Airflow 3; use the multi-executor form %s,%s", Celery, Kubernetes)
		case e == CeleryKubernetes && len(entries) > 1:
			c.errorf("executor", "CeleryKubernetesExecutor cannot be combined with other executors; use %s,%s instead", Celery, Kubernetes)
		case !x.Valid():
			c.errorf("executor", "%q is not an executor airkube deploys; use %s, %s, %s, a comma list of them, %s (Airflow 2.x), or a custom executor's class path (wx.executors.KubeExecutor, or with an alias KubeX:wx.executors.KubeExecutor)", e, Local, Celery, Kubernetes, CeleryKubernetes)
		case names[x.Name()]:
			c.errorf("executor", "%s is listed twice", x.Name())
		case x.Custom():
			c.warnf("executor", "%s runs inside the scheduler: its class must be importable from airflow.image (%s), e.g. a package installed in the image", x.Path, r.Airflow.Image)
		}
		names[x.Name()] = true
	}
	return r.ExecutorSet()
}

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

func (c *checker) secretKey(path string, s *v1alpha1.SecretKey) {
	if s.Name == "" {
		c.errorf(path+".name", "required: the Secret's name")
	}
	if s.Key == "" {
		c.errorf(path+".key", "required: the key in the Secret")
	}
}

func (c *checker) broker(r *v1alpha1.AirflowRelease, executors v1alpha1.ExecutorSet) {
	b := r.Broker
	switch {
	case executors.Celery && b == nil:
		c.errorf("broker", "required with CeleryExecutor: redis: {} for a bundled Redis, or urlSecret: {name, key}")
	case !executors.Celery && b != nil:
		c.errorf("broker", "only used by CeleryExecutor, which this release does not run; remove it")
	case b != nil && (b.Redis == nil) == (b.URLSecret == nil):
		c.errorf("broker", "give exactly one of redis or urlSecret")
	case b != nil && b.URLSecret != nil:
		c.secretKey("broker.urlSecret", b.URLSecret)
	case b != nil && b.Redis.Image != "":
		c.image("broker.redis.image", b.Redis.Image)
	}
	if b != nil && b.Redis != nil && b.Redis.Persistence != nil {
		p := b.Redis.Persistence
		switch {
		case p.ExistingClaim != "" && (p.Size != "" || p.StorageClassName != nil):
			c.errorf("broker.redis.persistence", "give existingClaim, or size and storageClassName for a claim the chart makes, not both")
		case p.ExistingClaim == "":
			if q, err := resource.ParseQuantity(p.Size); err != nil || q.Sign() <= 0 {
				c.errorf("broker.redis.persistence.size", "%q is not a size like 1Gi", p.Size)
			}
		}
	}
	if b != nil && b.VisibilityTimeout != "" {
		if d, err := time.ParseDuration(b.VisibilityTimeout); err != nil || d < time.Minute || d%time.Second != 0 {
			c.errorf("broker.visibilityTimeout", "%q is not a duration of whole seconds, at least a minute, like 24h or 90m", b.VisibilityTimeout)
		}
	}
}

func (c *checker) storage(s *v1alpha1.Storage) {
	d := s.DAGs
	c.oneSource("storage.dags", map[string]bool{"nfs": d.NFS != nil, "csi": d.CSI != nil, "existingClaim": d.ExistingClaim != "", "gitSync": d.GitSync != nil, "image": d.Image != nil})
	c.nfs("storage.dags.nfs", d.NFS)
	c.csi("storage.dags.csi", d.CSI)
	if g := d.GitSync; g != nil && g.Repo == "" {
		c.errorf("storage.dags.gitSync.repo", "required: the git repository URL")
	}
	if g := d.GitSync; g != nil && g.Image != "" {
		c.image("storage.dags.gitSync.image", g.Image)
	}
	l := s.Logs
	c.oneSource("storage.logs", map[string]bool{"nfs": l.NFS != nil, "csi": l.CSI != nil, "existingClaim": l.ExistingClaim != "", "remote": l.Remote != nil})
	c.nfs("storage.logs.nfs", l.NFS)
	c.csi("storage.logs.csi", l.CSI)
	if l.Remote != nil {
		scheme, _, found := strings.Cut(l.Remote.BaseLogFolder, "://")
		switch provider, known := remoteLogProviders[scheme]; {
		case !found:
			c.errorf("storage.logs.remote.baseLogFolder", "%q is not a remote URL like s3://bucket/logs", l.Remote.BaseLogFolder)
		case known:
			// Airflow imports the handler at start: an image without the provider crashes.
			c.warnf("storage.logs.remote.baseLogFolder", "%s:// logging needs %s installed in airflow.image and every task group's image", scheme, provider)
		}
	}
	if days := l.RetentionDays; days != nil {
		switch {
		case *days < 1:
			c.errorf("storage.logs.retentionDays", "%d: give a number of days, at least 1", *days)
		case l.Remote != nil:
			c.errorf("storage.logs.retentionDays", "remote logging keeps task logs in %s and local copies in a pod's emptyDir: expire them with the store's own lifecycle rules instead", l.Remote.BaseLogFolder)
		case l.NFS == nil && l.CSI == nil && l.ExistingClaim == "":
			c.errorf("storage.logs.retentionDays", "logs are in each pod's emptyDir and go with the pod: retention needs storage.logs on nfs, csi or existingClaim")
		}
	}
	for path, p := range map[string]string{"storage.dags.mountPath": d.MountPath, "storage.logs.mountPath": l.MountPath} {
		if !strings.HasPrefix(p, "/") || strings.HasPrefix(p, "/opt/airkube") {
			c.errorf(path, "%q must be an absolute path outside /opt/airkube", p)
		}
	}
	if d.MountPath == l.MountPath {
		c.errorf("storage.logs.mountPath", "%q is also the DAGs' mountPath; give logs their own folder", l.MountPath)
	}
	for path, q := range map[string]string{"storage.dags.size": d.Size, "storage.logs.size": l.Size} {
		if _, err := resource.ParseQuantity(q); err != nil {
			c.errorf(path, "%q is not a quantity like 10Gi", q)
		}
	}
	c.claimName("storage.dags.existingClaim", d.ExistingClaim)
	c.claimName("storage.logs.existingClaim", l.ExistingClaim)
}

// claimName checks an existing claim's name, when one is given.
func (c *checker) claimName(path, claim string) {
	if claim != "" && (len(claim) > 253 || !dnsSubdomain.MatchString(claim)) {
		c.errorf(path, "%q is not a claim name (lower-case letters, digits, '-' and '.', at most 253 characters)", claim)
	}
}

func (c *checker) oneSource(path string, set map[string]bool) {
	var given []string
	for k, v := range set {
		if v {
			given = append(given, k)
		}
	}
	if len(given) > 1 {
		sort.Strings(given)
		c.errorf(path, "give one source, not %s", strings.Join(given, " and "))
	}
}

func (c *checker) nfs(path string, n *v1alpha1.NFS) {
	if n == nil {
		return
	}
	if n.Server == "" {
		c.errorf(path+".server", "required: the NFS server's host name or address")
	}
	if !strings.HasPrefix(n.Path, "/") {
		c.errorf(path+".path", "%q must be the export's absolute path", n.Path)
	}
}

func (c *checker) csi(path string, v *v1alpha1.CSI) {
	if v == nil {
		return
	}
	if v.Driver == "" {
		c.errorf(path+".driver", "required: the CSI driver's name")
	}
	if v.VolumeHandle == "" {
		c.errorf(path+".volumeHandle", "required: the volume's handle")
	}
}

func (c *checker) kubernetesAPI(r *v1alpha1.AirflowRelease, executors v1alpha1.ExecutorSet) {
	k := &r.KubernetesAPI
	podOperators := k.PodOperators
	for _, g := range r.TaskGroups {
		if g.PodOperators != nil && *g.PodOperators {
			podOperators = true
		}
	}
	if ca := k.CABundle; ca != nil {
		if (ca.ConfigMap == "") == (ca.Secret == "") {
			c.errorf("kubernetesAPI.caBundle", "give exactly one of configMap or secret")
		}
	}
	insecure := k.VerifySSL != nil && !*k.VerifySSL
	if k.Server != "" {
		if u, err := url.Parse(k.Server); err != nil || u.Scheme != "https" || u.Host == "" || (u.Path != "" && u.Path != "/") {
			c.errorf("kubernetesAPI.server", "%q is not an API server URL like https://api.example.com:6443", k.Server)
		}
	}
	switch {
	case (k.CABundle != nil || k.VerifySSL != nil || k.Server != "") && !executors.Kubernetes && !podOperators:
		c.errorf("kubernetesAPI", "only used by the KubernetesExecutor or by pod operators (podOperators: true), neither of which this release runs; remove it or set podOperators: true")
	case insecure && !k.AllowInsecureTLS:
		c.errorf("kubernetesAPI.verifySSL", "false turns off TLS checks of the Kubernetes API; give caBundle with the API's CA instead, or set allowInsecureTLS: true to accept the risk")
	case insecure:
		c.warnf("kubernetesAPI.verifySSL", "TLS checks of the Kubernetes API are off: anyone on the path can impersonate the API server; prefer caBundle")
	}
	if insecure && k.CABundle != nil {
		c.errorf("kubernetesAPI.caBundle", "has no effect with verifySSL: false; keep one of them")
	}
}

func (c *checker) components(r *v1alpha1.AirflowRelease, major uint64) {
	for _, comp := range r.Components.Fields() {
		name, path := comp.Field, "components."+comp.Field
		if comp.Replicas != nil && *comp.Replicas < 1 {
			c.errorf(path+".replicas", "%d: at least 1", *comp.Replicas)
		}
		if comp.Enabled != nil && !*comp.Enabled && (name == "apiServer" || name == "scheduler" || (name == "dagProcessor" && major == 3)) {
			c.errorf(path+".enabled", "%s cannot be turned off in Airflow %d", name, major)
		}
		off := (name == "triggerer" && comp.Enabled != nil && !*comp.Enabled) ||
			(name == "dagProcessor" && major == 2 && (comp.Enabled == nil || !*comp.Enabled))
		if rest := *comp.Component; off {
			rest.Enabled = nil
			if !reflect.DeepEqual(rest, v1alpha1.Component{}) {
				c.warnf(path, "%s does not run (enabled: true turns it on), so its other settings have no effect", name)
			}
		}
	}
}

func (c *checker) taskGroups(r *v1alpha1.AirflowRelease, executors v1alpha1.ExecutorSet) {
	seen := map[string]bool{}
	var release []string
	for _, e := range []struct {
		name string
		runs bool
	}{{Local, executors.Local}, {Celery, executors.Celery}, {Kubernetes, executors.Kubernetes}} {
		if e.runs {
			release = append(release, e.name)
		}
	}
	for _, x := range r.Executors() {
		if x.Custom() {
			release = append(release, x.Name())
		}
	}
	locals := 0
	for i, g := range r.TaskGroups {
		path := fmt.Sprintf("taskGroups[%d]", i)
		c.itemName(path, "group", g.Name, 20, seen)
		if g.Image != r.Airflow.Image { // else checked as airflow.image, its default
			c.image(path+".image", g.Image)
		}
		if g.Patch != "" {
			c.errorf(path+".$patch", "is only valid in an overlay")
		}
		x, ok := r.GroupExecutor(g)
		if !ok || !x.Valid() || g.Executor == CeleryKubernetes {
			// With no valid executor at all, the release's executor is the problem
			// (already reported); "not one of ()" would only add noise.
			if len(release) > 0 {
				c.errorf(path+".executor", "%q is not one of the release's executors (%s)", g.Executor, strings.Join(release, ", "))
			}
			continue
		}
		if sa := g.ServiceAccount; sa != nil {
			for k := range sa.Annotations {
				if errs := validation.IsQualifiedName(k); len(errs) > 0 {
					c.errorf(path+".serviceAccount.annotations", "%q is not an annotation key: %s", k, strings.Join(errs, "; "))
				}
			}
			if g.Executor == Local {
				c.errorf(path+".serviceAccount", "LocalExecutor tasks run in the scheduler, under the release's ServiceAccount: give the identity in serviceAccount at the top, or run this group with %s or %s", Celery, Kubernetes)
			}
		}
		kind := g.Executor
		if x.Custom() {
			kind = custom
		}
		switch kind {
		case custom:
			// Like LocalExecutor: its tasks run inside the scheduler.
			if g.Image != r.Airflow.Image {
				c.errorf(path+".image", "%s runs its tasks from inside the scheduler, which uses airflow.image; give this group executor %s or %s for its own image", x.Name(), Celery, Kubernetes)
			}
			c.noWorkers(path, g, x.Name())
			c.inScheduler(path, g, x.Name())
			if g.ServiceAccount != nil {
				c.errorf(path+".serviceAccount", "%s runs in the scheduler, under the release's ServiceAccount: give the identity in serviceAccount at the top", x.Name())
			}
		case Local:
			locals++
			if locals > 1 {
				c.errorf(path, "a release has one LocalExecutor group: its tasks run inside the scheduler")
			}
			if g.Image != r.Airflow.Image {
				c.errorf(path+".image", "LocalExecutor tasks run inside the scheduler, which uses airflow.image; give this group executor %s or %s for its own image", Celery, Kubernetes)
			}
			c.noWorkers(path, g, Local)
			c.inScheduler(path, g, Local)
		case Kubernetes:
			c.noWorkers(path, g, Kubernetes)
		case Celery:
			if g.Replicas != nil && g.Autoscaling != nil {
				c.errorf(path+".replicas", "cannot be set with autoscaling; use autoscaling.minReplicas")
			}
			if g.Replicas != nil && *g.Replicas < 0 {
				c.errorf(path+".replicas", "%d: at least 0", *g.Replicas)
			}
			if *g.Concurrency < 1 {
				c.errorf(path+".concurrency", "%d: at least 1", *g.Concurrency)
			}
			c.autoscaling(path+".autoscaling", g.Autoscaling, r)
		}
	}
}

func (c *checker) noWorkers(path string, g v1alpha1.TaskGroup, executor string) {
	if g.Autoscaling != nil {
		c.errorf(path+".autoscaling", "%s groups have no workers to scale; only %s groups do", executor, Celery)
	}
	if g.Replicas != nil {
		c.errorf(path+".replicas", "%s groups have no workers; only %s groups do", executor, Celery)
	}
}

// inScheduler refuses the pod settings of a group whose tasks run inside the scheduler (LocalExecutor,
// custom executors): it has no pods of its own, so they would be dropped without a word. Its volumes
// and podOperators do apply, to the scheduler.
func (c *checker) inScheduler(path string, g v1alpha1.TaskGroup, executor string) {
	for _, f := range []struct {
		field string
		set   bool
	}{
		{"resources", g.Resources != nil}, {"nodeSelector", len(g.NodeSelector) > 0}, {"tolerations", len(g.Tolerations) > 0},
		{"affinity", g.Affinity != nil}, {"env", len(g.Env) > 0}, {"envFrom", len(g.EnvFrom) > 0},
		{"podAnnotations", len(g.PodAnnotations) > 0}, {"podLabels", len(g.PodLabels) > 0},
		{"priorityClassName", g.PriorityClassName != ""}, {"topologySpreadConstraints", len(g.TopologySpreadConstraints) > 0},
		{"initContainers", len(g.InitContainers) > 0}, {"sidecars", len(g.Sidecars) > 0},
	} {
		if f.set {
			c.errorf(path+"."+f.field, "%s tasks run inside the scheduler: set %s on components.scheduler, or give this group executor %s or %s for pods of its own", executor, f.field, Celery, Kubernetes)
		}
	}
	if g.SecurityContext != nil {
		c.errorf(path+".securityContext", "%s tasks run inside the scheduler, as airflow.image's user: give this group executor %s or %s for a user of its own", executor, Celery, Kubernetes)
	}
}

func (c *checker) autoscaling(path string, a *v1alpha1.Autoscaling, r *v1alpha1.AirflowRelease) {
	if a == nil {
		return
	}
	if a.MaxReplicas < 1 {
		c.errorf(path+".maxReplicas", "required: at least 1")
	}
	// Without maxReplicas (reported above) there is no range to compare with.
	if *a.MinReplicas < 0 || (a.MaxReplicas >= 1 && *a.MinReplicas > a.MaxReplicas) {
		c.errorf(path+".minReplicas", "%d must be between 0 and maxReplicas (%d)", *a.MinReplicas, a.MaxReplicas)
	}
	switch a.Metric {
	case "queue":
		if r.Database.ConnectionSecret != nil {
			c.errorf(path+".metric", "queue scaling reads the database through host, name, user and passwordSecret; give those instead of database.connectionSecret, or use metric: cpu")
		}
	case "cpu":
		if *a.MinReplicas < 1 {
			c.errorf(path+".minReplicas", "metric cpu needs at least 1 worker; only queue scaling can scale to 0")
		}
	default:
		c.errorf(path+".metric", "%q is not a metric; use queue (KEDA, queued and running tasks) or cpu (HorizontalPodAutoscaler)", a.Metric)
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
