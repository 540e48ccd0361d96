package importer

import (
	"fmt"
	"net/url"
	"slices"
	"sort"
	"strconv"
	"strings"

	"go.yaml.in/yaml/v3"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/util/validation"

	"github.com/airkube/airkube/generator/airflowcfg"
	"github.com/airkube/airkube/generator/apis/v1alpha1"
	"github.com/airkube/airkube/generator/validate"
)

// build fills the spec from the values, one concern at a time.
func (im *importer) build() {
	r := &im.spec
	r.APIVersion, r.Kind = v1alpha1.APIVersion, v1alpha1.Kind
	r.Metadata = v1alpha1.Metadata{Name: im.opt.Release, Namespace: im.opt.Namespace}
	im.version()
	if len(im.bad) > 0 {
		return
	}
	im.executor()
	im.database()
	im.broker()
	im.keys()
	im.storage()
	im.groups()
	im.components()
	im.pods()
	im.env()
	im.metrics() // before config: with metrics, airkube sets the [metrics] keys
	im.config()
	im.users()
	im.ui()
	im.misc()
}

// version is airflow.version and airflow.image, from airflowVersion and the image values.
func (im *importer) version() {
	root, a := im.root, &im.spec.Airflow
	img := root.get("images", "airflow")
	repo, tag, digest := img.get("repository"), img.get("tag"), img.get("digest")
	if !repo.set() {
		repo = root.get("defaultAirflowRepository")
	}
	if !tag.set() {
		tag = root.get("defaultAirflowTag")
	}
	if !digest.set() {
		digest = root.get("defaultAirflowDigest")
	}
	ver := root.get("airflowVersion")
	version := ver.str()
	if version == "" {
		if m := versionRE.FindStringSubmatch(tag.str()); m != nil {
			version = m[1] + "." + m[2] + "." + m[3]
			im.report(ver, Carried, "to airflow.version %s, read from the image tag %q (airflowVersion is not set)", version, tag.str())
		} else {
			im.fail(ver, "not set, and the image tag %q does not name a version: set airflowVersion to the Airflow version the release runs (`helm get values --all` shows it) and import again", tag.str())
			return
		}
	} else {
		im.carried(ver, "airflow.version")
	}
	m := versionRE.FindStringSubmatch(version)
	if m == nil {
		im.fail(ver, "%q is not an Airflow version (x.y.z)", version)
		return
	}
	minor, _ := strconv.Atoi(m[2])
	switch {
	case m[1] == "2" && minor == 11:
		im.major = 2
	case m[1] == "3" && minor <= 3:
		im.major = 3
	default:
		im.fail(ver, "Airflow %s: airkube runs 2.11.x and 3.0 to 3.3; upgrade the release to 2.11 with the official chart first, then import", version)
		return
	}
	a.Version = version
	if im.major == 3 {
		// The chart's config.core.auth_manager default, on 3.x too; config() reads a value that replaces it.
		im.spec.Auth.Manager = v1alpha1.AuthFAB
	}
	repository := repo.str()
	if repository == "" {
		repository = v1alpha1.DefaultAirflowImage
	}
	image := repository + ":" + version
	if tag.set() {
		image = repository + ":" + tag.str()
	}
	if digest.set() {
		image = repository + "@" + digest.str()
	}
	if image != v1alpha1.DefaultAirflowImage+":"+version {
		a.Image = image
	}
	for _, v := range []value{repo, tag, digest} {
		im.carried(v, "airflow.image")
	}
	if p := img.get("pullPolicy"); p.set() {
		a.ImagePullPolicy = corev1.PullPolicy(p.str())
		im.carried(p, "airflow.imagePullPolicy")
	}
	for _, k := range root.get("images").keys() {
		if k != "airflow" {
			im.each(NotNeeded, "airkube pulls every image with airflow.imagePullPolicy", root.get("images", k, "pullPolicy"))
		}
	}
}

// executor is the release's executors; the official chart's default is CeleryExecutor.
func (im *importer) executor() {
	v := im.root.get("executor")
	executor := v.str()
	if executor == "" {
		executor = v1alpha1.CeleryExecutor
		im.report(v, Carried, "the chart's default CeleryExecutor, to executor")
	}
	var out []string
	for _, e := range strings.Split(executor, ",") {
		switch e = strings.TrimSpace(e); e {
		case v1alpha1.CeleryKubernetesExecutor:
			if im.major == 3 {
				out = append(out, v1alpha1.CeleryExecutor, v1alpha1.KubernetesExecutor)
				im.report(v, Carried, "to executor %s,%s: Airflow 3 has no CeleryKubernetesExecutor; tasks sent to the kubernetes queue must say executor=\"KubernetesExecutor\" (airkube.task_group(\"kubernetes\") does)", v1alpha1.CeleryExecutor, v1alpha1.KubernetesExecutor)
				continue
			}
			out = append(out, e)
		case "LocalKubernetesExecutor":
			out = append(out, v1alpha1.LocalExecutor, v1alpha1.KubernetesExecutor)
			im.report(v, Carried, "to executor %s,%s (Airflow's multiple executors): tasks sent to the kubernetes queue must say executor=\"KubernetesExecutor\"", v1alpha1.LocalExecutor, v1alpha1.KubernetesExecutor)
			continue
		case v1alpha1.LocalExecutor, v1alpha1.CeleryExecutor, v1alpha1.KubernetesExecutor:
			out = append(out, e)
		case "":
		default:
			im.report(v, Unsupported, "%s: airkube runs Local, Celery and Kubernetes executors and custom ones of the form alias:module.Class; give yours that way in executor", e)
			continue
		}
	}
	if len(out) == 0 {
		out = []string{v1alpha1.CeleryExecutor}
	}
	im.spec.Executor = strings.Join(out, ",")
	if v.set() && !im.reportedAt(v.path) {
		im.carried(v, "executor")
	}
}

func (im *importer) has(executor string) bool {
	for _, e := range strings.Split(im.spec.Executor, ",") {
		if e == executor || (e == v1alpha1.CeleryKubernetesExecutor && (executor == v1alpha1.CeleryExecutor || executor == v1alpha1.KubernetesExecutor)) {
			return true
		}
	}
	return false
}

// secretCmd is the command that makes a Secret from values the user types: the value never appears
// on the command line, in the shell's history or in this report.
func (im *importer) secretCmd(name string, keys ...string) string {
	var from []string
	for _, k := range keys {
		from = append(from, fmt.Sprintf("--from-file=%s=/dev/stdin", k))
	}
	if len(keys) == 1 {
		return fmt.Sprintf("kubectl -n %s create secret generic %s %s (type the value, then Ctrl-D)", im.opt.Namespace, name, from[0])
	}
	return fmt.Sprintf("kubectl -n %s create secret generic %s --from-file=... (one key at a time: %s)", im.opt.Namespace, name, strings.Join(keys, ", "))
}

// database is the metadata database: a Secret with the URI, or the connection's fields with the
// password moved to a Secret. The chart's bundled PostgreSQL has no airkube counterpart.
func (im *importer) database() {
	data, d := im.root.get("data"), &im.spec.Database
	pg := im.root.get("postgresql", "enabled")
	conn := data.get("metadataConnection")
	if s := data.get("metadataSecretName"); s.set() {
		d.Type = "postgres"
		d.ConnectionSecret = &v1alpha1.SecretKey{Name: s.str(), Key: "connection"}
		im.report(s, Carried, "to database.connectionSecret {name: %s, key: connection} (the chart's key); database.type postgres assumed: set mysql if the URI there is mysql://", s.str())
		im.each(NotNeeded, "data.metadataSecretName holds the whole connection", conn)
	} else if conn.get("host").set() {
		switch p := conn.get("protocol").str(); p {
		case "", "postgresql", "postgres":
			d.Type = "postgres"
		case "mysql":
			d.Type = "mysql"
		default:
			im.fail(conn.get("protocol"), "%q: airkube connects to postgresql or mysql", p)
		}
		im.carried(conn.get("protocol"), "database.type")
		d.Host = conn.get("host").str()
		im.carried(conn.get("host"), "database.host")
		if n, ok := conn.get("port").integer(); ok {
			d.Port = int32(n)
			im.carried(conn.get("port"), "database.port")
		}
		d.Name, d.User = "postgres", "postgres" // the chart's defaults
		if v := conn.get("db"); v.set() {
			d.Name = v.str()
			im.carried(v, "database.name")
		}
		if v := conn.get("user"); v.set() {
			d.User = v.str()
			im.carried(v, "database.user")
		}
		secret := im.opt.Release + "-database"
		d.PasswordSecret = &v1alpha1.SecretKey{Name: secret, Key: "password"}
		im.report(conn.get("pass"), Action, "the password stays out of the spec (database.passwordSecret {name: %s, key: password}); create it: %s", secret, im.secretCmd(secret, "password"))
		sslmode := conn.get("sslmode")
		mode := "disable" // the chart's default
		if sslmode.set() {
			mode = sslmode.str()
		}
		if d.Type == "mysql" {
			mode = map[string]string{"disable": "DISABLED", "prefer": "PREFERRED", "require": "REQUIRED", "verify-ca": "VERIFY_CA", "verify-full": "VERIFY_IDENTITY"}[mode]
		}
		if mode != "" {
			d.SSLMode = mode
			im.report(sslmode, Carried, "to database.sslMode %s", mode)
		}
		im.each(NotNeeded, "airkube's Secrets carry no annotations of their own", conn.get("secretAnnotations"))
	} else {
		im.fail(pg, "the chart's bundled PostgreSQL (postgresql.enabled, true by default) holds this release's data, and airkube connects only to a database you run: move the data to one, set data.metadataSecretName or data.metadataConnection.host to it, and import again")
		return
	}
	im.each(NotNeeded, "airkube connects to the database you run; it bundles none", pg)
	im.each(NotNeeded, "airkube keeps Celery's results in the metadata database", data.get("resultBackendSecretName"), data.get("resultBackendConnection"), data.get("resultBackendConnectionSecretAnnotations"))
}

// broker is Celery's broker: the chart's Redis, or a broker URL.
func (im *importer) broker() {
	data, redis := im.root.get("data"), im.root.get("redis")
	if !im.has(v1alpha1.CeleryExecutor) {
		im.each(NotNeeded, "no Celery executor, so no broker", redis, data.get("brokerUrl"), data.get("brokerUrlSecretName"))
		return
	}
	b := &v1alpha1.Broker{}
	im.spec.Broker = b
	switch {
	case data.get("brokerUrlSecretName").set():
		s := data.get("brokerUrlSecretName")
		b.URLSecret = &v1alpha1.SecretKey{Name: s.str(), Key: "connection"}
		im.report(s, Carried, "to broker.urlSecret {name: %s, key: connection} (the chart's key)", s.str())
	case data.get("brokerUrl").set():
		secret := im.opt.Release + "-broker"
		b.URLSecret = &v1alpha1.SecretKey{Name: secret, Key: "url"}
		im.report(data.get("brokerUrl"), Action, "the URL (it may hold a password) stays out of the spec (broker.urlSecret {name: %s, key: url}); create it: %s", secret, im.secretCmd(secret, "url"))
	case redis.get("enabled").on(true):
		b.Redis = &v1alpha1.Redis{}
		im.report(redis.get("enabled"), Carried, "to broker.redis (airkube's Redis; its password is generated once and kept)")
		if r := redis.get("resources"); r.set() {
			var res corev1.ResourceRequirements
			if im.decode(r, &res) {
				b.Redis.Resources = &res
				im.carried(r, "broker.redis.resources")
			}
		}
		if img := im.root.get("images", "redis"); img.get("repository").set() || img.get("tag").set() {
			repo, tag := img.get("repository").str(), img.get("tag").str()
			if repo == "" {
				repo = "redis"
			}
			if tag != "" {
				repo += ":" + tag
			}
			b.Redis.Image = repo
			im.carried(img.get("repository"), "broker.redis.image")
			im.carried(img.get("tag"), "broker.redis.image")
		}
		im.each(NotNeeded, "airkube generates Redis' password once and keeps it across upgrades", redis.get("password"), redis.get("passwordSecretName"), redis.get("passwordSecretAnnotations"))
		im.each(NotNeeded, restricted, redis.get("securityContext"), redis.get("securityContexts"), redis.get("uid"), redis.get("containerLifecycleHooks"))
		im.redisPersistence(b.Redis, redis.get("persistence"))
	default:
		im.fail(redis.get("enabled"), "false, and neither data.brokerUrl nor data.brokerUrlSecretName is set: the Celery executor needs a broker")
	}
}

// redisPersistence is the chart's redis.persistence, on by default: the queue on disk.
func (im *importer) redisPersistence(r *v1alpha1.Redis, p value) {
	if !p.get("enabled").on(true) {
		im.report(p.get("enabled"), NotNeeded, "airkube's Redis keeps its queue in memory unless broker.redis.persistence is set")
		im.each(NotNeeded, "persistence is off", p.get("size"), p.get("storageClassName"), p.get("existingClaim"), p.get("annotations"), p.get("persistentVolumeClaimRetentionPolicy"))
		return
	}
	r.Persistence = &v1alpha1.RedisPersistence{}
	im.carried(p.get("enabled"), "broker.redis.persistence (the queue in an append-only file)")
	if c := p.get("existingClaim"); c.str() != "" {
		r.Persistence.ExistingClaim = c.str()
		im.carried(c, "broker.redis.persistence.existingClaim")
		im.each(NotNeeded, "the existing claim is used as it is", p.get("size"), p.get("storageClassName"))
	} else {
		if sz := p.get("size"); sz.set() && sz.str() != v1alpha1.DefaultRedisVolumeSize {
			r.Persistence.Size = sz.str()
			im.carried(sz, "broker.redis.persistence.size")
		} else {
			im.each(NotNeeded, "airkube's default size is "+v1alpha1.DefaultRedisVolumeSize, sz)
		}
		if sc := p.get("storageClassName"); sc.str() != "" {
			name := sc.str()
			r.Persistence.StorageClassName = &name
			im.carried(sc, "broker.redis.persistence.storageClassName")
		}
	}
	im.each(NotNeeded, "airkube's claim is kept on uninstall, and has no annotations", p.get("annotations"), p.get("persistentVolumeClaimRetentionPolicy"))
}

// keys are the fernet, API and JWT keys: airkube reads them from one Secret, which the user makes
// from the chart's Secrets before uninstalling it, so encrypted connections still decrypt.
func (im *importer) keys() {
	root := im.root
	secret := im.opt.Release + "-keys"
	im.spec.Secrets.ExistingSecret = secret
	type source struct{ nameValue, chartKey, key string }
	sources := []source{{"fernetKeySecretName", "fernet-key", "fernet-key"}}
	if im.major == 3 {
		sources = append(sources, source{"apiSecretKeySecretName", "api-secret-key", "secret-key"}, source{"jwtSecretName", "jwt-secret", "jwt-secret"})
	} else {
		sources = append(sources, source{"webserverSecretKeySecretName", "webserver-secret-key", "secret-key"})
	}
	// The keys stay base64, as the chart's Secrets hold them, and pass only through the shell's own printf
	// into kubectl's stdin: never on a command line, where any process on the machine could read them.
	cmd := fmt.Sprintf(`{ printf 'apiVersion: v1\nkind: Secret\nmetadata: {name: %s}\ndata:\n'`, secret)
	for _, s := range sources {
		name := im.fullname + "-" + s.chartKey
		if v := root.get(s.nameValue); v.set() {
			name = v.str()
		}
		cmd += fmt.Sprintf(`; printf '  %s: %%s\n' "$(kubectl -n %s get secret %s -o jsonpath='{.data.%s}')"`, s.key, im.opt.Namespace, name, s.chartKey)
	}
	cmd += fmt.Sprintf("; } | kubectl -n %s create -f -", im.opt.Namespace)
	anchor := root.get("fernetKeySecretName")
	if !anchor.set() && root.get("fernetKey").set() {
		anchor = root.get("fernetKey")
	}
	im.report(anchor, Action, "secrets.existingSecret %s keeps the release's keys, so connections and variables still decrypt; before uninstalling the chart, copy its keys: %s", secret, cmd)
	for _, v := range []value{root.get("apiSecretKeySecretName"), root.get("jwtSecretName"), root.get("webserverSecretKeySecretName")} {
		im.carried(v, "secrets.existingSecret "+secret+", through the command above")
	}
	for _, v := range []value{root.get("fernetKey"), root.get("apiSecretKey"), root.get("jwtSecret"), root.get("webserverSecretKey")} {
		if v.path != anchor.path {
			im.each(Action, "the key stays out of the spec; the command above copies it from the chart's Secret into "+secret, v)
		}
	}
	im.each(NotNeeded, "airkube's Secrets carry no annotations of their own", root.get("fernetKeySecretAnnotations"), root.get("apiSecretAnnotations"), root.get("jwtSecretAnnotations"), root.get("webserverSecretAnnotations"))
}

// decode reads v into out, failing the import with the value's place when it does not fit.
func (im *importer) decode(v value, out any) bool {
	if err := v.decode(out); err != nil {
		im.fail(v, "not a valid value for this field: %v", err)
		return false
	}
	return true
}

// claim is a persistence block (dags.persistence, logs.persistence): its existing claim, or the
// claim the chart made (then kept from the chart's uninstall by the command in the report).
func (im *importer) claim(p value, what string) string {
	if !p.get("enabled").on(false) {
		return ""
	}
	if c := p.get("existingClaim"); c.set() {
		im.carried(c, "storage."+what+".existingClaim")
		im.carried(p.get("enabled"), "storage."+what+".existingClaim")
		return c.str()
	}
	name := im.fullname + "-" + what
	im.report(p.get("enabled"), Action, "storage.%s.existingClaim %s, the claim the chart made: keep it from the chart's uninstall first: kubectl -n %s annotate pvc %s helm.sh/resource-policy=keep", what, name, im.opt.Namespace, name)
	im.each(NotNeeded, "the claim exists already; airkube mounts it as it is", p.get("size"), p.get("storageClassName"), p.get("accessMode"), p.get("annotations"))
	return name
}

// storage is DAGs (a claim or git-sync) and logs (a claim).
func (im *importer) storage() {
	s, dags, logs := &im.spec.Storage, im.root.get("dags"), im.root.get("logs")
	if m := dags.get("mountPath"); m.set() {
		s.DAGs.MountPath = m.str()
		im.carried(m, "storage.dags.mountPath")
	}
	if c := im.claim(dags.get("persistence"), "dags"); c != "" {
		s.DAGs.ExistingClaim = c
		im.each(Unsupported, "airkube mounts the whole claim; move the DAGs to its root", dags.get("persistence", "subPath"))
	}
	g := dags.get("gitSync")
	if g.get("enabled").on(false) {
		if s.DAGs.ExistingClaim != "" {
			im.report(g.get("enabled"), Unsupported, "airkube takes DAGs from one source, and dags.persistence is carried; drop one of the two")
		} else {
			gs := &v1alpha1.GitSync{Repo: g.get("repo").str(), SubPath: g.get("subPath").str()}
			im.carried(g.get("enabled"), "storage.dags.gitSync")
			im.carried(g.get("repo"), "storage.dags.gitSync.repo")
			im.carried(g.get("subPath"), "storage.dags.gitSync.subPath")
			for _, k := range []string{"rev", "ref", "branch"} {
				v := g.get(k)
				switch {
				case !v.set():
				case v.str() == "HEAD":
					im.report(v, NotNeeded, "HEAD is git-sync's default")
				case gs.Ref == "":
					gs.Ref = v.str()
					im.carried(v, "storage.dags.gitSync.ref")
				default:
					im.report(v, NotNeeded, "git-sync follows one ref: %s", gs.Ref)
				}
			}
			if v := g.get("period"); v.set() {
				gs.Period = v.str()
				im.carried(v, "storage.dags.gitSync.period")
			} else if n, ok := g.get("wait").integer(); ok {
				gs.Period = fmt.Sprintf("%ds", n)
				im.carried(g.get("wait"), "storage.dags.gitSync.period")
			}
			if v := g.get("credentialsSecret"); v.set() {
				gs.CredentialsSecret = v.str()
				im.carried(v, "storage.dags.gitSync.credentialsSecret (keys GITSYNC_USERNAME, GITSYNC_PASSWORD)")
			}
			im.each(Unsupported, "airkube's git-sync reads HTTPS credentials (credentialsSecret); give the repository an HTTPS URL and a token there", g.get("sshKeySecret"), g.get("sshKey"), g.get("knownHosts"))
			if img := im.root.get("images", "gitSync"); img.get("repository").set() {
				gs.Image = img.get("repository").str() + ":" + img.get("tag").str()
				im.carried(img.get("repository"), "storage.dags.gitSync.image")
				im.carried(img.get("tag"), "storage.dags.gitSync.image")
			}
			s.DAGs.GitSync = gs
		}
	}
	if c := im.claim(logs.get("persistence"), "logs"); c != "" {
		s.Logs.ExistingClaim = c
		im.each(Unsupported, "airkube mounts the whole claim", logs.get("persistence", "subPath"))
	}
}

// group is the task group being built from the workers values, with where its values came from.
type group struct {
	g    *v1alpha1.TaskGroup
	path string
}

// groups are the task groups: the Celery workers (the default set and each of workers.celery.sets,
// named after their queue, as DAGs route to it) and the KubernetesExecutor's pods.
func (im *importer) groups() {
	w := im.root.get("workers")
	var groups []group
	if im.has(v1alpha1.CeleryExecutor) {
		celery := w.get("celery")
		if celery.get("enableDefault").on(true) {
			queue := "default"
			for _, q := range []value{celery.get("queue"), w.get("queue")} {
				if q.set() {
					queue = im.queue(q)
					break
				}
			}
			g := &v1alpha1.TaskGroup{Name: queue, Executor: v1alpha1.CeleryExecutor}
			im.workerSet(g, celery)
			im.workerSet(g, w)
			groups = append(groups, group{g, "taskGroups[" + queue + "]"})
		} else {
			im.report(celery.get("enableDefault"), Carried, "no default Celery group; only workers.celery.sets")
		}
		for _, set := range celery.get("sets").items() {
			name := set.get("name")
			queue := set.get("queue")
			n := ""
			switch {
			case queue.set():
				n = im.queue(queue)
				im.report(name, NotNeeded, "the group is named after its queue, %s, which DAGs route to", n)
			case name.set():
				n = name.str()
				im.report(name, Carried, "to taskGroups[%s].name", n)
			default:
				im.fail(set, "a worker set needs a name or a queue")
				continue
			}
			g := &v1alpha1.TaskGroup{Name: n, Executor: v1alpha1.CeleryExecutor}
			// The set's own values win over workers.celery's, which win over workers'.
			im.workerSet(g, set)
			im.workerSet(g, celery)
			im.workerSet(g, w)
			groups = append(groups, group{g, "taskGroups[" + n + "]"})
		}
	}
	if im.has(v1alpha1.KubernetesExecutor) {
		g := &v1alpha1.TaskGroup{Name: "kubernetes", Executor: v1alpha1.KubernetesExecutor}
		if img := im.root.get("images", "pod_template"); img.get("repository").set() {
			g.Image = img.get("repository").str() + ":" + img.get("tag").str()
			im.carried(img.get("repository"), "taskGroups[kubernetes].image")
			im.carried(img.get("tag"), "taskGroups[kubernetes].image")
		}
		im.podOptions(g, w) // the chart's pod template uses the workers' values
		groups = append(groups, group{g, "taskGroups[kubernetes]"})
	}
	if im.has(v1alpha1.LocalExecutor) {
		groups = append(groups, group{&v1alpha1.TaskGroup{Name: "local", Executor: v1alpha1.LocalExecutor}, "taskGroups[local]"})
	}
	// The release's first executor's groups come first: its first group is the default.
	first := strings.Split(im.spec.Executor, ",")[0]
	sort.SliceStable(groups, func(i, j int) bool {
		return groups[i].g.Executor == first && groups[j].g.Executor != first
	})
	for _, g := range groups {
		im.spec.TaskGroups = append(im.spec.TaskGroups, *g.g)
	}
	im.each(NotNeeded, "airkube's workers keep no state: task logs go to storage.logs", w.get("persistence"), w.get("celery", "persistence"), w.get("volumeClaimTemplates"))
	im.each(NotNeeded, "airkube's pods are restricted Pod Security Standard by construction; a group's uid and gid go in taskGroups[].securityContext", w.get("securityContext"), w.get("securityContexts"), w.get("celery", "securityContexts"), w.get("kubernetes", "securityContexts"))
	im.each(NotNeeded, "airkube runs Airflow's own worker command and probes", w.get("command"), w.get("args"), w.get("livenessProbe"), w.get("celery", "command"), w.get("celery", "args"), w.get("celery", "livenessProbe"), w.get("kubernetes", "command"))
	im.each(NotNeeded, "airkube decides the workers' rollout and disruption budget: a roll lets running tasks finish (terminationGracePeriodSeconds)", w.get("strategy"), w.get("updateStrategy"), w.get("podDisruptionBudget"), w.get("celery", "strategy"), w.get("celery", "updateStrategy"), w.get("safeToEvict"), w.get("revisionHistoryLimit"), w.get("celery", "revisionHistoryLimit"))
	im.each(NotNeeded, "airkube's log retention (storage.logs.retentionDays) cleans the shared log volume once, not in every worker", w.get("logGroomerSidecar"))
	im.each(NotNeeded, "airkube's workers wait for migrations by construction", w.get("waitForMigrations"))
	im.each(Unsupported, "airkube has no Kerberos sidecar", w.get("kerberosSidecar"), w.get("kerberosInitContainer"), w.get("celery", "kerberosInitContainer"), w.get("kubernetes", "kerberosInitContainer"))
}

// queue is a Celery queue that becomes a group's name: one queue, a DNS label.
func (im *importer) queue(q value) string {
	name := strings.TrimSpace(strings.Split(q.str(), ",")[0])
	if strings.Contains(q.str(), ",") {
		im.report(q, Unsupported, "a group listens to one queue; taskGroups[%s] takes the first; give each other queue a group of its own", name)
	} else {
		im.report(q, Carried, "to taskGroups[%s].name (a group's name is its queue)", name)
	}
	if errs := validation.IsDNS1123Label(name); len(errs) > 0 {
		im.fail(q, "%q cannot name an airkube task group (a DNS label): %s", name, strings.Join(errs, "; "))
	}
	return name
}

// workerSet reads one source of a Celery worker set's values (a set of workers.celery.sets,
// workers.celery or workers) into g: the fields g does not have yet, so call the most specific first.
func (im *importer) workerSet(g *v1alpha1.TaskGroup, w value) {
	at := "taskGroups[" + g.Name + "]"
	if n, ok := w.get("replicas").integer(); ok && g.Replicas == nil && g.Autoscaling == nil {
		g.Replicas = ptr(int32(n))
		im.carried(w.get("replicas"), at+".replicas")
	}
	// The most specific source that says whether KEDA or an HPA scales the group decides it.
	_, kedaSaid := w.get("keda", "enabled").boolean()
	_, hpaSaid := w.get("hpa", "enabled").boolean()
	decided := im.scalingDecided[g.Name]
	if kedaSaid || hpaSaid {
		im.scalingDecided[g.Name] = true
	}
	if decided {
		// a more specific source already decided
	} else if k := w.get("keda"); k.get("enabled").on(false) && g.Autoscaling == nil {
		a := &v1alpha1.Autoscaling{MinReplicas: ptr(int32(0)), MaxReplicas: 10, Metric: "queue"}
		if n, ok := k.get("minReplicaCount").integer(); ok {
			a.MinReplicas = ptr(int32(n))
		}
		if n, ok := k.get("maxReplicaCount").integer(); ok {
			a.MaxReplicas = int32(n)
		}
		if im.spec.Database.ConnectionSecret != nil {
			// KEDA reads the queue from the database's fields, not from a URI in a Secret.
			a.Metric = "cpu"
			a.MinReplicas = ptr(max(*a.MinReplicas, 1))
			im.report(k.get("enabled"), Action, "%s.autoscaling with metric cpu for now: queue scaling (KEDA, as the chart's) reads the database through database.host, name, user and passwordSecret, not a URI in a Secret; give those and set metric: queue", at)
		} else {
			im.carried(k.get("enabled"), at+".autoscaling (KEDA on the group's queued and running tasks)")
		}
		g.Autoscaling = a
		im.dropReplicas(g, "workers.keda")
		im.carried(k.get("minReplicaCount"), at+".autoscaling.minReplicas")
		im.carried(k.get("maxReplicaCount"), at+".autoscaling.maxReplicas")
		im.each(NotNeeded, "airkube's ScaledObject counts the group's queued and running tasks itself", k.get("query"), k.get("usePgbouncer"), k.get("pollingInterval"), k.get("cooldownPeriod"), k.get("advanced"), k.get("namespaceLabels"))
	} else if h := w.get("hpa"); h.get("enabled").on(false) && g.Autoscaling == nil {
		a := &v1alpha1.Autoscaling{MinReplicas: ptr(int32(1)), MaxReplicas: 5, Metric: "cpu"}
		if n, ok := h.get("minReplicaCount").integer(); ok {
			a.MinReplicas = ptr(int32(max(n, 1)))
		}
		if n, ok := h.get("maxReplicaCount").integer(); ok {
			a.MaxReplicas = int32(n)
		}
		g.Autoscaling = a
		im.dropReplicas(g, "workers.hpa")
		im.carried(h.get("enabled"), at+".autoscaling with metric cpu (a HorizontalPodAutoscaler)")
		im.carried(h.get("minReplicaCount"), at+".autoscaling.minReplicas")
		im.carried(h.get("maxReplicaCount"), at+".autoscaling.maxReplicas")
		im.each(Unsupported, "airkube's HorizontalPodAutoscaler targets CPU utilisation (autoscaling.targetCPUUtilizationPercentage)", h.get("metrics"), h.get("behavior"))
	}
	if n, ok := w.get("terminationGracePeriodSeconds").integer(); ok && g.TerminationGracePeriodSeconds == nil {
		g.TerminationGracePeriodSeconds = ptr(n)
		im.carried(w.get("terminationGracePeriodSeconds"), at+".terminationGracePeriodSeconds")
	}
	im.podOptions(g, w)
}

// dropReplicas undoes g's replicas when it autoscales: the report line that carried them says so.
func (im *importer) dropReplicas(g *v1alpha1.TaskGroup, by string) {
	if g.Replicas == nil {
		return
	}
	g.Replicas = nil
	field := "taskGroups[" + g.Name + "].replicas"
	for i := range im.lines {
		l := &im.lines[i]
		if l.Verdict != Carried || !strings.Contains(l.Note, field) {
			continue
		}
		var rest []string
		for _, f := range strings.Split(strings.TrimPrefix(l.Note, "to "), ", ") {
			if f != field {
				rest = append(rest, f)
			}
		}
		if len(rest) == 0 {
			l.Verdict, l.Note = NotNeeded, fmt.Sprintf("%s scales taskGroups[%s] (its autoscaling), as it did the chart's workers", by, g.Name)
		} else {
			l.Note = "to " + strings.Join(rest, ", ")
		}
	}
}

// podOptions reads a worker set's pod values into the fields of g that are still unset: resources,
// placement, annotations, labels, containers, env and the ServiceAccount's annotations.
func (im *importer) podOptions(g *v1alpha1.TaskGroup, w value) {
	at := "taskGroups[" + g.Name + "]"
	field := func(v value, f string) { im.carried(v, at+"."+f) }
	if v := w.get("resources"); v.isMap() && len(v.keys()) > 0 && g.Resources == nil {
		var r corev1.ResourceRequirements
		if im.decode(v, &r) {
			g.Resources = &r
			field(v, "resources")
		}
	}
	if v := w.get("nodeSelector"); v.isMap() && len(v.keys()) > 0 && g.NodeSelector == nil && im.decode(v, &g.NodeSelector) {
		field(v, "nodeSelector")
	}
	if v := w.get("tolerations"); v.isList() && len(v.items()) > 0 && g.Tolerations == nil && im.decode(v, &g.Tolerations) {
		field(v, "tolerations")
	}
	if v := w.get("affinity"); v.isMap() && len(v.keys()) > 0 && g.Affinity == nil {
		var a corev1.Affinity
		if im.decode(v, &a) {
			g.Affinity = &a
			field(v, "affinity")
		}
	}
	if v := w.get("topologySpreadConstraints"); v.isList() && len(v.items()) > 0 && g.TopologySpreadConstraints == nil && im.decode(v, &g.TopologySpreadConstraints) {
		field(v, "topologySpreadConstraints")
	}
	if v := w.get("podAnnotations"); v.isMap() && len(v.keys()) > 0 && g.PodAnnotations == nil && im.decode(v, &g.PodAnnotations) {
		field(v, "podAnnotations")
	}
	if v := w.get("labels"); v.isMap() && len(v.keys()) > 0 && g.PodLabels == nil && im.decode(v, &g.PodLabels) {
		field(v, "podLabels")
	}
	if v := w.get("priorityClassName"); v.set() && g.PriorityClassName == "" {
		g.PriorityClassName = v.str()
		field(v, "priorityClassName")
	}
	if v := w.get("env"); v.isList() && len(v.items()) > 0 && g.Env == nil && im.decode(v, &g.Env) {
		field(v, "env")
	}
	if v := w.get("serviceAccount", "annotations"); v.isMap() && len(v.keys()) > 0 && g.ServiceAccount == nil {
		sa := &v1alpha1.ServiceAccount{}
		if im.decode(v, &sa.Annotations) {
			g.ServiceAccount = sa
			field(v, "serviceAccount.annotations")
		}
	}
	for _, c := range []struct {
		key  string
		into *[]corev1.Container
		f    string
	}{{"extraContainers", &g.Sidecars, "sidecars"}, {"extraInitContainers", &g.InitContainers, "initContainers"}} {
		v := w.get(c.key)
		switch {
		case v.isList() && len(v.items()) > 0 && *c.into == nil:
			if im.decode(v, c.into) {
				field(v, c.f)
			}
		case v.set() && v.str() != "" && templated(v.str()):
			im.report(v, Action, "Helm template text only the official chart can run: write the containers out in %s.%s", at, c.f)
		}
	}
	im.each(NotNeeded, "airkube's ServiceAccounts are its own; a group gets one with serviceAccount.annotations", w.get("serviceAccount", "create"), w.get("serviceAccount", "name"), w.get("serviceAccount", "automountServiceAccountToken"))
	im.each(Unsupported, "put the volume in storage.volumes and list it by name in taskGroups[].volumes or components.*.volumes", w.get("extraVolumes"), w.get("extraVolumeMounts"))
	im.each(Unsupported, "airkube's worker ports are its own", w.get("extraPorts"))
	im.each(Unsupported, "not an airkube option", w.get("hostAliases"), w.get("runtimeClassName"), w.get("annotations"))
}

func ptr[T any](v T) *T { return &v }

// components are the scheduler, api-server (3.x) or webserver (2.x), triggerer and dag-processor.
func (im *importer) components() {
	root, c := im.root, &im.spec.Components
	ui, other := "apiServer", "webserver"
	if im.major == 2 {
		ui, other = "webserver", "apiServer"
	}
	for _, x := range []struct {
		key  string
		into **v1alpha1.Component
		name string
	}{{"scheduler", &c.Scheduler, "scheduler"}, {ui, &c.APIServer, "apiServer"}, {"triggerer", &c.Triggerer, "triggerer"}, {"dagProcessor", &c.DAGProcessor, "dagProcessor"}} {
		v := root.get(x.key)
		comp := &v1alpha1.Component{}
		at := "components." + x.name
		if e, ok := v.get("enabled").boolean(); ok && (x.key == "triggerer" || x.key == "dagProcessor") {
			if x.key == "dagProcessor" && im.major == 3 {
				im.report(v.get("enabled"), NotNeeded, "Airflow 3 always runs a dag-processor")
			} else {
				comp.Enabled = ptr(e)
				im.carried(v.get("enabled"), at+".enabled")
			}
		}
		if n, ok := v.get("replicas").integer(); ok {
			comp.Replicas = ptr(int32(n))
			im.carried(v.get("replicas"), at+".replicas")
		}
		g := &v1alpha1.TaskGroup{Name: x.name}
		im.podOptionsOf(g, v, at)
		comp.Resources, comp.NodeSelector, comp.Tolerations, comp.Affinity = g.Resources, g.NodeSelector, g.Tolerations, g.Affinity
		comp.TopologySpreadConstraints, comp.PodAnnotations, comp.PodLabels = g.TopologySpreadConstraints, g.PodAnnotations, g.PodLabels
		comp.PriorityClassName, comp.Env, comp.Sidecars, comp.InitContainers = g.PriorityClassName, g.Env, g.Sidecars, g.InitContainers
		if !isZero(comp) {
			*x.into = comp
		}
		im.each(NotNeeded, "airkube runs Airflow's own commands, probes, rollout and disruption budget for it", v.get("command"), v.get("args"), v.get("livenessProbe"), v.get("readinessProbe"), v.get("startupProbe"), v.get("strategy"), v.get("updateStrategy"), v.get("podDisruptionBudget"), v.get("waitForMigrations"), v.get("safeToEvict"), v.get("revisionHistoryLimit"), v.get("terminationGracePeriodSeconds"), v.get("hpa"))
		im.each(NotNeeded, "airkube's pods are restricted Pod Security Standard by construction", v.get("securityContext"), v.get("securityContexts"), v.get("containerLifecycleHooks"))
		im.each(NotNeeded, "airkube keeps no state in its components: logs go to storage.logs", v.get("persistence"), v.get("logGroomerSidecar"))
		im.each(NotNeeded, "airkube's Services and NetworkPolicies are its own (networkPolicy.uiFrom admits more to the UI)", v.get("service"), v.get("networkPolicy"), v.get("extraNetworkPolicies"))
	}
	if other == "webserver" || !root.get("webserver", "defaultUser").set() {
		im.each(NotNeeded, "Airflow "+strconv.Itoa(im.major)+" has no "+other, root.get(other))
	} else {
		// webserver.defaultUser is read by users(); the rest of webserver does not apply to 3.x.
		for _, k := range root.get(other).keys() {
			if k != "defaultUser" {
				im.each(NotNeeded, "Airflow 3 has no webserver", root.get(other, k))
			}
		}
	}
}

// podOptionsOf reads a component's pod values through the task group reader, reporting them under
// the component's field.
func (im *importer) podOptionsOf(g *v1alpha1.TaskGroup, v value, at string) {
	n := len(im.lines)
	im.podOptions(g, v)
	for i := n; i < len(im.lines); i++ {
		im.lines[i].Note = strings.Replace(im.lines[i].Note, "taskGroups["+g.Name+"]", at, 1)
	}
	if g.ServiceAccount != nil {
		im.spec.ServiceAccount.Annotations = mergeMaps(im.spec.ServiceAccount.Annotations, g.ServiceAccount.Annotations)
		for i := n; i < len(im.lines); i++ {
			if strings.HasSuffix(im.lines[i].Path, "serviceAccount.annotations") {
				im.lines[i].Note = "to serviceAccount.annotations (the release's ServiceAccounts share them)"
			}
		}
	}
}

func mergeMaps(a, b map[string]string) map[string]string {
	if a == nil {
		a = map[string]string{}
	}
	for k, v := range b {
		a[k] = v
	}
	return a
}

func isZero(c *v1alpha1.Component) bool {
	return c.Enabled == nil && c.Replicas == nil && c.Resources == nil && len(c.NodeSelector) == 0 && len(c.Tolerations) == 0 &&
		c.Affinity == nil && len(c.TopologySpreadConstraints) == 0 && len(c.PodAnnotations) == 0 && len(c.PodLabels) == 0 &&
		c.PriorityClassName == "" && len(c.Env) == 0 && len(c.Sidecars) == 0 && len(c.InitContainers) == 0
}

// pods applies the chart-wide pod values (nodeSelector, affinity, tolerations, spread,
// airflowPodAnnotations) to every component and group that has none of its own, as the chart does.
func (im *importer) pods() {
	root, r := im.root, &im.spec
	var (
		selectors   []*map[string]string
		tolerations []*[]corev1.Toleration
		affinities  []**corev1.Affinity
		spreads     []*[]corev1.TopologySpreadConstraint
		annotations []*map[string]string
	)
	add := func(ns *map[string]string, t *[]corev1.Toleration, a **corev1.Affinity, sp *[]corev1.TopologySpreadConstraint, an *map[string]string) {
		selectors, tolerations, affinities = append(selectors, ns), append(tolerations, t), append(affinities, a)
		spreads, annotations = append(spreads, sp), append(annotations, an)
	}
	comps := &r.Components
	for _, p := range []**v1alpha1.Component{&comps.Scheduler, &comps.APIServer, &comps.Triggerer, &comps.DAGProcessor} {
		if *p == nil {
			*p = &v1alpha1.Component{}
		}
		c := *p
		add(&c.NodeSelector, &c.Tolerations, &c.Affinity, &c.TopologySpreadConstraints, &c.PodAnnotations)
	}
	for i := range r.TaskGroups {
		g := &r.TaskGroups[i]
		if g.Executor == v1alpha1.LocalExecutor {
			continue // its tasks run in the scheduler
		}
		add(&g.NodeSelector, &g.Tolerations, &g.Affinity, &g.TopologySpreadConstraints, &g.PodAnnotations)
	}
	fillUnset(im, root.get("nodeSelector"), "nodeSelector", selectors, func(m map[string]string) bool { return len(m) == 0 })
	fillUnset(im, root.get("tolerations"), "tolerations", tolerations, func(t []corev1.Toleration) bool { return len(t) == 0 })
	fillUnset(im, root.get("affinity"), "affinity", affinities, func(a *corev1.Affinity) bool { return a == nil })
	fillUnset(im, root.get("topologySpreadConstraints"), "topologySpreadConstraints", spreads, func(t []corev1.TopologySpreadConstraint) bool { return len(t) == 0 })
	if v := root.get("airflowPodAnnotations"); v.isMap() && len(v.keys()) > 0 {
		var m map[string]string
		if im.decode(v, &m) {
			for _, a := range annotations {
				*a = mergeMaps(copyMap(m), *a)
			}
			im.report(v, Carried, "to every component's and task group's podAnnotations")
		}
	}
	for _, p := range []**v1alpha1.Component{&comps.Scheduler, &comps.APIServer, &comps.Triggerer, &comps.DAGProcessor} {
		if isZero(*p) {
			*p = nil
		}
	}
}

// fillUnset decodes a chart-wide value, if the file sets a non-empty one, into every target that
// is still unset.
func fillUnset[T any](im *importer, v value, field string, targets []*T, unset func(T) bool) {
	if !(v.isMap() && len(v.keys()) > 0) && !(v.isList() && len(v.items()) > 0) {
		return
	}
	var x T
	if !im.decode(v, &x) {
		return
	}
	for _, t := range targets {
		if unset(*t) {
			*t = x
		}
	}
	im.report(v, Carried, "to every component's and task group's %s that sets none of its own", field)
}

func copyMap(m map[string]string) map[string]string { return mergeMaps(nil, m) }

// env is the environment of every Airflow container: env, secret and extraEnv, and extraEnvFrom.
func (im *importer) env() {
	root, a := im.root, &im.spec.Airflow
	if v := root.get("env"); v.isList() && len(v.items()) > 0 {
		var env []corev1.EnvVar
		if im.decode(v, &env) {
			a.Env = append(a.Env, env...)
			im.carried(v, "airflow.env")
		}
	}
	for _, s := range root.get("secret").items() {
		name, secret, key := s.get("envName").str(), s.get("secretName").str(), s.get("secretKey").str()
		if key == "" {
			key = "value" // the chart's default key
		}
		a.Env = append(a.Env, corev1.EnvVar{Name: name, ValueFrom: &corev1.EnvVarSource{SecretKeyRef: &corev1.SecretKeySelector{LocalObjectReference: corev1.LocalObjectReference{Name: secret}, Key: key}}})
		im.report(s, Carried, "to airflow.env %s from Secret %s key %s", name, secret, key)
	}
	if v := root.get("extraEnv"); v.set() {
		var env []corev1.EnvVar
		switch {
		case templated(v.str()):
			im.report(v, Action, "Helm template text only the official chart can run: write the variables out in airflow.env")
		case im.decodeText(v, &env):
			a.Env = append(a.Env, env...)
			im.carried(v, "airflow.env")
		}
	}
	if v := root.get("extraEnvFrom"); v.set() {
		var from []corev1.EnvFromSource
		switch {
		case templated(v.str()):
			im.report(v, Action, "Helm template text only the official chart can run: write the sources out in each component's and task group's envFrom")
		case im.decodeText(v, &from):
			comps := &im.spec.Components
			for _, p := range []**v1alpha1.Component{&comps.Scheduler, &comps.APIServer, &comps.Triggerer, &comps.DAGProcessor} {
				if *p == nil {
					*p = &v1alpha1.Component{}
				}
				(*p).EnvFrom = append((*p).EnvFrom, from...)
			}
			for i := range im.spec.TaskGroups {
				if im.spec.TaskGroups[i].Executor != v1alpha1.LocalExecutor {
					im.spec.TaskGroups[i].EnvFrom = append(im.spec.TaskGroups[i].EnvFrom, from...)
				}
			}
			im.carried(v, "every component's and task group's envFrom")
		}
	}
	im.each(NotNeeded, "airkube sets the environment it needs and no more", root.get("enableBuiltInSecretEnvVars"))
}

// decodeText reads a values string holding YAML (extraEnv, extraEnvFrom) into out.
func (im *importer) decodeText(v value, out any) bool {
	var n yaml.Node
	if err := yaml.Unmarshal([]byte(v.str()), &n); err != nil || len(n.Content) == 0 {
		im.fail(v, "not YAML the chart could read: %v", err)
		return false
	}
	inner := value{path: v.path, node: n.Content[0]}
	if err := inner.decode(out); err != nil {
		im.fail(v, "not a valid value for this field: %v", err)
		return false
	}
	return true
}

// config carries airflow.cfg settings the user set, except those airkube derives from the spec and
// the chart's template text; keys renamed by Airflow 3 are carried under their new names.
func (im *importer) config() {
	cfg := im.root.get("config")
	keys, err := airflowcfg.ForVersion(im.spec.Airflow.Version)
	managed := validate.ManagedKeys(&im.spec)
	for _, section := range cfg.keys() {
		for _, key := range cfg.get(section).keys() {
			v := cfg.get(section, key)
			full := strings.ToLower(section + "." + key)
			if !v.set() || v.isMap() || v.isList() {
				continue
			}
			if full == "core.simple_auth_manager_users" && im.major == 3 {
				im.simpleUsers(v)
				continue
			}
			if full == "core.auth_manager" {
				im.authManager(v)
				continue
			}
			if field, ok := validate.ManagedKey(managed, full); ok {
				im.report(v, NotNeeded, "airkube sets it from %s", field)
				continue
			}
			if templated(v.str()) {
				im.report(v, NotNeeded, "Helm template text of the chart's own default; airkube derives this setting from the spec")
				continue
			}
			s, k := section, key
			if err == nil {
				switch verdict, repl := keys.Check(full); verdict {
				case airflowcfg.Removed:
					if repl == "" {
						im.report(v, NotNeeded, "Airflow 3 removed it")
						continue
					}
					s, k, _ = strings.Cut(repl, ".")
					if field, ok := managed[repl]; ok {
						im.report(v, NotNeeded, "renamed %s by Airflow 3, which airkube sets from %s", repl, field)
						continue
					}
					if again, _ := keys.Check(repl); again == airflowcfg.Unknown {
						im.report(v, NotNeeded, "renamed %s by Airflow 3, a key of a provider airkube's releases do not configure (set it in airflow.config if your image has that provider)", repl)
						continue
					}
				case airflowcfg.Unknown:
					im.report(v, NotNeeded, "Airflow %s does not read it (closest key: %s)", im.spec.Airflow.Version, repl)
					continue
				}
			}
			if im.spec.Airflow.Config == nil {
				im.spec.Airflow.Config = map[string]map[string]string{}
			}
			if im.spec.Airflow.Config[s] == nil {
				im.spec.Airflow.Config[s] = map[string]string{}
			}
			im.spec.Airflow.Config[s][k] = v.str()
			if full == "celery.worker_concurrency" {
				im.report(v, Carried, "to airflow.config.celery.worker_concurrency (every Celery group; a group's concurrency overrides it)")
				continue
			}
			im.report(v, Carried, "to airflow.config.%s.%s", s, k)
		}
	}
}

// simpleUsers carries SimpleAuthManager's users ("name:role,..."): airkube keeps their passwords in a
// Secret, where SimpleAuthManager generated them into a file of the api-server's.
func (im *importer) simpleUsers(v value) {
	secret := im.opt.Release + "-users"
	roles := map[string]string{"admin": "Admin", "op": "Op", "user": "User", "viewer": "Viewer"}
	var names []string
	for _, entry := range strings.Split(v.str(), ",") {
		name, role, _ := strings.Cut(strings.TrimSpace(entry), ":")
		if name == "" {
			continue
		}
		r, ok := roles[strings.ToLower(role)]
		if !ok {
			im.fail(v, "%q: role %q is not one of SimpleAuthManager's (admin, op, user, viewer)", entry, role)
			continue
		}
		names = append(names, name)
		if slices.ContainsFunc(im.spec.Auth.Users, func(u v1alpha1.User) bool { return u.Username == name }) {
			continue // the chart's default user, already carried
		}
		im.spec.Auth.Users = append(im.spec.Auth.Users, v1alpha1.User{Username: name, Role: r, PasswordSecret: &v1alpha1.SecretKey{Name: secret, Key: name}})
	}
	im.report(v, Action, "to auth.users (%s); their passwords go in Secret %s, one key per user: %s", strings.Join(names, ", "), secret, im.secretCmd(secret, names...))
}

// authManager is the login system. The chart's default is FAB, on 3.x too (its images have the
// provider), so an unset core.auth_manager is FAB: the users and roles in the database stay in use.
func (im *importer) authManager(v value) {
	switch {
	case strings.HasSuffix(v.str(), "SimpleAuthManager") && im.major == 3:
		im.spec.Auth.Manager = v1alpha1.AuthSimple
		im.report(v, Carried, "to auth.manager simple: SimpleAuthManager users from Secrets (auth.users)")
	case strings.HasSuffix(v.str(), ".FabAuthManager") && im.major == 2:
		im.report(v, NotNeeded, "Airflow 2's logins are FAB's; airkube creates the users of auth.users")
	case strings.HasSuffix(v.str(), ".FabAuthManager"):
		im.spec.Auth.Manager = v1alpha1.AuthFAB
		im.report(v, Carried, "to auth.manager fab: FAB's users and roles in the database stay; airkube creates and updates those of auth.users")
	default:
		im.fail(v, "%q: airkube's auth managers are FAB (auth.manager fab) and Airflow 3's SimpleAuthManager (auth.manager simple)", v.str())
	}
}

// users are the UI logins: the chart's createUserJob default user, its password moved to a Secret.
func (im *importer) users() {
	job := im.root.get("createUserJob")
	u := job.get("defaultUser")
	if old := im.root.get("webserver", "defaultUser"); old.set() {
		if u.set() {
			im.report(old, NotNeeded, "createUserJob.defaultUser, set too, is the chart's place for it since 1.16")
		} else {
			u = old // charts before 1.16
		}
	}
	enabled := job.get("enabled").on(true) && u.get("enabled").on(true)
	if !enabled {
		im.each(NotNeeded, "no default user: airkube creates the users listed in auth.users", job.get("enabled"), u.get("enabled"))
		im.each(NotNeeded, "no default user is created", u)
	} else {
		name := u.get("username").str()
		if name == "" {
			name = "admin"
		}
		role := u.get("role").str()
		if role == "" {
			role = "Admin"
		}
		secret := im.opt.Release + "-users"
		user := v1alpha1.User{Username: name, Role: role, PasswordSecret: &v1alpha1.SecretKey{Name: secret, Key: name}}
		if im.spec.Auth.Manager != v1alpha1.AuthSimple {
			user.Email = u.get("email").str()
			im.carried(u.get("email"), "auth.users[0].email")
		} else {
			im.each(NotNeeded, "SimpleAuthManager users have no email", u.get("email"))
		}
		im.spec.Auth.Users = append(im.spec.Auth.Users, user)
		im.report(u.get("username"), Carried, "to auth.users[0].username %s", name)
		im.report(u.get("role"), Carried, "to auth.users[0].role %s", role)
		im.report(u.get("password"), Action, "the password stays out of the spec (auth.users[0].passwordSecret {name: %s, key: %s}); create it: %s", secret, name, im.secretCmd(secret, name))
		im.each(NotNeeded, "airkube's users have a username, a role and a password", u.get("firstName"), u.get("lastName"))
		im.carried(job.get("enabled"), "auth.users")
	}
	im.each(NotNeeded, "airkube's user Job (2.x) and passwords file (3.x) need none of the chart's Job settings", job.get("ttlSecondsAfterFinished"), job.get("command"), job.get("args"), job.get("annotations"), job.get("jobAnnotations"),
		job.get("restartPolicy"), job.get("labels"), job.get("securityContext"), job.get("securityContexts"), job.get("containerLifecycleHooks"), job.get("serviceAccount"), job.get("extraContainers"),
		job.get("extraInitContainers"), job.get("extraVolumes"), job.get("extraVolumeMounts"), job.get("nodeSelector"), job.get("affinity"), job.get("tolerations"), job.get("topologySpreadConstraints"),
		job.get("priorityClassName"), job.get("useHelmHooks"), job.get("applyCustomEnv"), job.get("env"), job.get("resources"))
}

// ui is the URL and the Ingress of the UI: ingress.apiServer (3.x), ingress.web (2.x).
func (im *importer) ui() {
	ing := im.root.get("ingress")
	key, other := "apiServer", "web"
	if im.major == 2 {
		key, other = "web", "apiServer"
	}
	v := ing.get(key)
	if !v.get("enabled").on(ing.get("enabled").on(false)) {
		im.each(NotNeeded, "no Ingress", v.get("enabled"), ing.get("enabled"))
		return
	}
	u := &im.spec.UI
	u.Ingress = &v1alpha1.UIIngress{}
	im.carried(v.get("enabled"), "ui.ingress")
	im.carried(ing.get("enabled"), "ui.ingress")
	host, tlsSecret := v.get("host").str(), ""
	hostAt := v.get("host")
	if hosts := v.get("hosts").items(); len(hosts) > 0 {
		h := hosts[0]
		if h.isMap() {
			host, hostAt = h.get("name").str(), h.get("name")
			if h.get("tls", "enabled").on(false) {
				tlsSecret = h.get("tls", "secretName").str()
				im.carried(h.get("tls"), "ui.ingress.tlsSecret")
			}
		} else {
			host, hostAt = h.str(), h
		}
		for _, more := range hosts[1:] {
			im.report(more, Unsupported, "ui.baseURL has one host; route others to it with your own Ingress")
		}
	}
	if tlsSecret == "" && v.get("tls", "enabled").on(false) {
		tlsSecret = v.get("tls", "secretName").str()
		im.carried(v.get("tls"), "ui.ingress.tlsSecret")
	}
	if host == "" {
		im.fail(v, "an Ingress without a host: airkube's Ingress serves ui.baseURL's host; set %s.host", v.path)
		return
	}
	scheme := "http"
	if tlsSecret != "" {
		scheme = "https"
		u.Ingress.TLSSecret = tlsSecret
	}
	path := strings.TrimSuffix(strings.TrimSuffix(v.get("path").str(), "*"), "/")
	u.BaseURL = (&url.URL{Scheme: scheme, Host: host, Path: path}).String()
	im.report(hostAt, Carried, "to ui.baseURL %s", u.BaseURL)
	im.carried(v.get("path"), "ui.baseURL")
	if c := v.get("ingressClassName"); c.set() {
		u.Ingress.ClassName = c.str()
		im.carried(c, "ui.ingress.className")
	}
	if a := v.get("annotations"); a.isMap() && len(a.keys()) > 0 && im.decode(a, &u.Ingress.Annotations) {
		im.carried(a, "ui.ingress.annotations")
	}
	im.each(NotNeeded, "airkube's Ingress routes baseURL's path with pathType Prefix", v.get("pathType"))
	im.each(Unsupported, "airkube's Ingress has one path; add other routes with your own Ingress", v.get("precedingPaths"), v.get("succeedingPaths"))
	im.each(NotNeeded, "Airflow "+strconv.Itoa(im.major)+" serves its UI from "+map[string]string{"apiServer": "the api-server", "web": "the webserver"}[key], ing.get(other))
	im.each(Unsupported, "airkube runs no Flower, StatsD UI or PgBouncer to route to", ing.get("flower"), ing.get("statsd"), ing.get("pgbouncer"))
}

// metrics is the StatsD exporter (on by default in the chart).
func (im *importer) metrics() {
	s := im.root.get("statsd")
	if !s.get("enabled").on(true) {
		im.report(s.get("enabled"), Carried, "metrics stays unset: no exporter")
		return
	}
	m := &v1alpha1.Metrics{StatsD: &v1alpha1.StatsD{}}
	im.spec.Metrics = m
	im.report(s.get("enabled"), Carried, "the chart's StatsD exporter (on by default) to metrics.statsd")
	if img := im.root.get("images", "statsd"); img.get("repository").set() || img.get("tag").set() {
		repo := img.get("repository").str()
		if repo == "" {
			repo = "quay.io/prometheus/statsd-exporter"
		}
		m.StatsD.Image = repo + ":" + img.get("tag").str()
		im.carried(img.get("repository"), "metrics.statsd.image")
		im.carried(img.get("tag"), "metrics.statsd.image")
	}
	if r := s.get("resources"); r.isMap() && len(r.keys()) > 0 {
		var res corev1.ResourceRequirements
		if im.decode(r, &res) {
			m.StatsD.Resources = &res
			im.carried(r, "metrics.statsd.resources")
		}
	}
	im.each(Unsupported, "airkube's exporter maps Airflow's metrics to labels itself (DAG, task, pool, executor)", s.get("extraMappings"), s.get("overrideMappings"), s.get("args"), s.get("cache"))
}

// misc accounts for the chart-wide values airkube carries directly: uid, gid, labels, image pull
// secrets, network policies, pod launching.
func (im *importer) misc() {
	root, a := im.root, &im.spec.Airflow
	if n, ok := root.get("uid").integer(); ok {
		a.UID = ptr(n)
		im.carried(root.get("uid"), "airflow.uid")
	}
	if n, ok := root.get("gid").integer(); ok {
		a.GID = ptr(n)
		im.carried(root.get("gid"), "airflow.gid")
	}
	if v := root.get("labels"); v.isMap() && len(v.keys()) > 0 && im.decode(v, &a.Labels) {
		im.carried(v, "airflow.labels")
	}
	for _, s := range root.get("imagePullSecrets").items() {
		name := s.str()
		if s.isMap() {
			name = s.get("name").str()
		}
		a.ImagePullSecrets = append(a.ImagePullSecrets, name)
		im.carried(s, "airflow.imagePullSecrets")
	}
	reg := root.get("registry")
	if s := reg.get("secretName"); s.set() {
		a.ImagePullSecrets = append(a.ImagePullSecrets, s.str())
		im.carried(s, "airflow.imagePullSecrets")
	} else if c := reg.get("connection"); c.get("host").set() {
		secret := im.opt.Release + "-registry"
		a.ImagePullSecrets = append(a.ImagePullSecrets, secret)
		im.report(c, Action, "the registry's password stays out of the spec (airflow.imagePullSecrets %s); create it: kubectl -n %s create secret docker-registry %s --docker-server=%s --docker-username=%s --docker-password=\"$(cat)\" (type the password, then Ctrl-D)",
			secret, im.opt.Namespace, secret, c.get("host").str(), c.get("user").str())
	}
	if v := root.get("networkPolicies", "enabled"); v.on(false) {
		im.spec.NetworkPolicy.Enabled = true
		im.carried(v, "networkPolicy.enabled")
	}
	if v := root.get("allowPodLaunching"); v.set() {
		if v.on(true) {
			im.spec.KubernetesAPI.PodOperators = true
			im.carried(v, "kubernetesAPI.podOperators (pod rights in the release's namespace only)")
		} else {
			im.report(v, Carried, "kubernetesAPI.podOperators stays off")
		}
	}
	if v := root.get("airflowHome"); v.set() && v.str() != "/opt/airflow" {
		im.report(v, Unsupported, "airkube's images keep AIRFLOW_HOME at /opt/airflow; mount paths are storage.dags.mountPath and storage.logs.mountPath")
	}
}
