package tests

import (
	"encoding/json"
	"fmt"
	"maps"
	"regexp"
	"slices"
	"sort"
	"strings"
	"testing"

	appsv1 "k8s.io/api/apps/v1"
	batchv1 "k8s.io/api/batch/v1"
	corev1 "k8s.io/api/core/v1"
	"sigs.k8s.io/yaml"

	"github.com/airkube/airkube/generator/apis/v1alpha1"
	"github.com/airkube/airkube/generator/model"
	"github.com/airkube/airkube/generator/validate"
)

// release is a rendered case, parsed into the objects the invariants look at.
type release struct {
	spec        *v1alpha1.AirflowRelease
	objects     []object
	deployments []appsv1.Deployment
	jobs        []batchv1.Job
	cronJobs    []batchv1.CronJob
	// taskPods are the KubernetesExecutor pod template files, by group.
	taskPods map[string]corev1.Pod
	cfg      map[string]string
}

// airflowPod is a pod spec that runs Airflow, with a name for messages.
type airflowPod struct {
	name string
	spec corev1.PodSpec
	// group is the pod's task group ("" for components).
	group string
	// component is the pod's app.kubernetes.io/component ("task" for task pod templates).
	component string
}

func convert(t testing.TB, in any, out any) {
	t.Helper()
	data, err := json.Marshal(in)
	if err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal(data, out); err != nil {
		t.Fatal(err)
	}
}

func parseRelease(t testing.TB, c goldenCase) *release {
	t.Helper()
	res := c.render(t)
	r := &release{spec: res.Release, objects: parseManifest(t, res.Manifest), taskPods: map[string]corev1.Pod{}, cfg: map[string]string{}}
	for _, o := range r.objects {
		switch o["kind"] {
		case "Deployment":
			var d appsv1.Deployment
			convert(t, o, &d)
			r.deployments = append(r.deployments, d)
		case "Job":
			var j batchv1.Job
			convert(t, o, &j)
			r.jobs = append(r.jobs, j)
		case "CronJob":
			var j batchv1.CronJob
			convert(t, o, &j)
			r.cronJobs = append(r.cronJobs, j)
		case "ConfigMap":
			var cm corev1.ConfigMap
			convert(t, o, &cm)
			if strings.HasSuffix(cm.Name, "-pod-templates") {
				for file, data := range cm.Data {
					var p corev1.Pod
					if err := yaml.UnmarshalStrict([]byte(data), &p); err != nil {
						t.Fatalf("%s: pod template %s: %v", c.Name, file, err)
					}
					r.taskPods[strings.TrimSuffix(file, ".yaml")] = p
				}
			}
			if cfg, ok := cm.Data["airflow.cfg"]; ok {
				r.cfg = parseINI(cfg)
			}
		}
	}
	return r
}

// parseINI reads airflow.cfg into "section.key" → value.
func parseINI(s string) map[string]string {
	out := map[string]string{}
	section := ""
	for _, line := range strings.Split(s, "\n") {
		line = strings.TrimSpace(line)
		switch {
		case strings.HasPrefix(line, "["):
			section = strings.Trim(line, "[]")
		case strings.Contains(line, " = "):
			k, v, _ := strings.Cut(line, " = ")
			out[section+"."+k] = v
		}
	}
	return out
}

// nonAirflow are the components that run no Airflow: the bundled Redis and the StatsD exporter.
var nonAirflow = map[string]bool{"redis": true, "statsd": true}

// airflowPods are every component, worker and task pod that runs Airflow.
func (r *release) airflowPods() []airflowPod {
	var out []airflowPod
	for _, d := range r.deployments {
		if nonAirflow[d.Spec.Template.Labels["app.kubernetes.io/component"]] {
			continue
		}
		labels := d.Spec.Template.Labels
		out = append(out, airflowPod{name: "Deployment/" + d.Name, spec: d.Spec.Template.Spec,
			group: labels["airkube.dev/task-group"], component: labels["app.kubernetes.io/component"]})
	}
	for g, p := range r.taskPods {
		out = append(out, airflowPod{name: "pod template " + g, spec: p.Spec, group: g, component: "task"})
	}
	return out
}

// allPods are every pod the release runs: Deployments, Jobs, CronJobs and task pod templates.
func (r *release) allPods() []airflowPod {
	var pods []airflowPod
	for _, d := range r.deployments {
		pods = append(pods, airflowPod{name: "Deployment/" + d.Name, spec: d.Spec.Template.Spec})
	}
	for _, j := range r.jobs {
		pods = append(pods, airflowPod{name: "Job/" + j.Name, spec: j.Spec.Template.Spec})
	}
	for _, j := range r.cronJobs {
		pods = append(pods, airflowPod{name: "CronJob/" + j.Name, spec: j.Spec.JobTemplate.Spec.Template.Spec})
	}
	for g, p := range r.taskPods {
		pods = append(pods, airflowPod{name: "pod template " + g, spec: p.Spec})
	}
	return pods
}

func mainContainer(p airflowPod) corev1.Container { return p.spec.Containers[0] }

func mountedAt(c corev1.Container, path string) bool {
	for _, m := range c.VolumeMounts {
		if m.MountPath == path || strings.HasPrefix(path, strings.TrimSuffix(m.MountPath, "/")+"/") {
			return true
		}
	}
	return false
}

func forEachCase(t *testing.T, check func(t *testing.T, r *release)) {
	for _, c := range cases(t) {
		t.Run(c.Name, func(t *testing.T) { check(t, parseRelease(t, c)) })
	}
}

// TestInvariantStorageMounts: DAGs at core.dags_folder and logs at base_log_folder in
// every Airflow container, the same way everywhere.
func TestInvariantStorageMounts(t *testing.T) {
	forEachCase(t, func(t *testing.T, r *release) {
		dags, logs := r.cfg["core.dags_folder"], r.cfg["logging.base_log_folder"]
		if dags == "" || logs == "" {
			t.Fatalf("airflow.cfg lacks dags_folder or base_log_folder: %v", r.cfg)
		}
		baked := r.spec.Storage.DAGs.Image != nil || (r.spec.Storage.DAGs.NFS == nil && r.spec.Storage.DAGs.CSI == nil &&
			r.spec.Storage.DAGs.ExistingClaim == "" && r.spec.Storage.DAGs.GitSync == nil)
		var dagVolume *corev1.Volume
		for _, p := range r.airflowPods() {
			c := mainContainer(p)
			if !baked && !mountedAt(c, dags) {
				t.Errorf("%s: container %s does not mount DAGs at %s", p.name, c.Name, dags)
			}
			if !mountedAt(c, logs) {
				t.Errorf("%s: container %s does not mount logs at %s", p.name, c.Name, logs)
			}
			for i, v := range p.spec.Volumes {
				if v.Name != "dags" {
					continue
				}
				if dagVolume == nil {
					dagVolume = &p.spec.Volumes[i]
				} else if fmt.Sprint(*dagVolume) != fmt.Sprint(v) {
					t.Errorf("%s: DAG volume %v differs from another pod's %v", p.name, v, *dagVolume)
				}
			}
		}
		// Log retention cleans the very volume the components write, at the same path, and nothing else.
		logVolume := func(spec corev1.PodSpec) string {
			for _, v := range spec.Volumes {
				if v.Name == "logs" {
					return fmt.Sprint(v)
				}
			}
			return ""
		}
		for _, j := range r.cronJobs {
			spec := j.Spec.JobTemplate.Spec.Template.Spec
			c := spec.Containers[0]
			if !mountedAt(c, logs) || len(c.VolumeMounts) != 2 || len(spec.Volumes) != 2 || !writableTmp(spec, c) {
				t.Errorf("CronJob/%s: mounts %v, want only the logs at %s and /tmp", j.Name, c.VolumeMounts, logs)
			}
			if want := logVolume(r.airflowPods()[0].spec); logVolume(spec) != want {
				t.Errorf("CronJob/%s: log volume %s, want the components' %s", j.Name, logVolume(spec), want)
			}
			if len(c.Args) < 5 || c.Args[4] != logs {
				t.Errorf("CronJob/%s: args %q do not clean %s", j.Name, c.Args, logs)
			}
		}
	})
}

var credentialsInURI = regexp.MustCompile(`://[^/\s:@]+:[^/\s@]+@`)

// TestInvariantNoLiteralPassword: no credentials in ConfigMaps, values or env literals;
// database and broker secrets only by secretKeyRef.
func TestInvariantNoLiteralPassword(t *testing.T) {
	forEachCase(t, func(t *testing.T, r *release) {
		for _, o := range r.objects {
			if o["kind"] == "Secret" {
				continue
			}
			data, _ := json.Marshal(o)
			if m := credentialsInURI.Find(data); m != nil {
				t.Errorf("%s holds a URI with credentials: %s", kindName(o), m)
			}
		}
		for _, p := range r.airflowPods() {
			for _, c := range append(p.spec.InitContainers, p.spec.Containers...) {
				for _, e := range c.Env {
					sensitive := strings.Contains(e.Name, "PASSWORD") || strings.Contains(e.Name, "SQL_ALCHEMY_CONN") ||
						strings.Contains(e.Name, "BROKER_URL") || strings.Contains(e.Name, "SECRET") || strings.Contains(e.Name, "FERNET") || strings.HasSuffix(e.Name, "_URI") ||
						strings.HasPrefix(e.Name, "AIRFLOW_VAR_") || strings.HasPrefix(e.Name, "AIRFLOW__SECRETS__") ||
						// Connections hold credentials; airkube's own kubernetes_default holds only the kubeconfig's path.
						(strings.HasPrefix(e.Name, "AIRFLOW_CONN_") && e.Name != "AIRFLOW_CONN_KUBERNETES_DEFAULT")
					// No exception, not even for a passwords file's path: scanners flag the name (airflow.cfg holds it).
					if sensitive && (e.Value != "" || e.ValueFrom == nil || e.ValueFrom.SecretKeyRef == nil) {
						t.Errorf("%s: container %s: %s is not read from a Secret", p.name, c.Name, e.Name)
					}
				}
			}
		}
	})
}

// TestInvariantSharedSecrets: every Airflow container (and the migration) reads the
// Fernet key, the API secret key and (3.x) the JWT secret from the same Secret keys.
func TestInvariantSharedSecrets(t *testing.T) {
	forEachCase(t, func(t *testing.T, r *release) {
		names := []string{"AIRFLOW__CORE__FERNET_KEY", "AIRFLOW__WEBSERVER__SECRET_KEY"}
		if strings.HasPrefix(r.spec.Airflow.Version, "3.") {
			names = []string{"AIRFLOW__CORE__FERNET_KEY", "AIRFLOW__API__SECRET_KEY", "AIRFLOW__API_AUTH__JWT_SECRET"}
		}
		seen := map[string]string{}
		pods := r.airflowPods()
		for _, j := range r.jobs {
			pods = append(pods, airflowPod{name: "Job/" + j.Name, spec: j.Spec.Template.Spec})
		}
		for _, p := range pods {
			for _, c := range p.spec.Containers {
				env := map[string]corev1.EnvVar{}
				for _, e := range c.Env {
					env[e.Name] = e
				}
				// Airflow containers only (they read the config): not git-sync or a group's own sidecars.
				if _, airflow := env["AIRFLOW_CONFIG"]; !airflow {
					continue
				}
				for _, n := range names {
					e, ok := env[n]
					if !ok || e.ValueFrom == nil || e.ValueFrom.SecretKeyRef == nil {
						t.Errorf("%s: container %s lacks %s from a Secret", p.name, c.Name, n)
						continue
					}
					ref := e.ValueFrom.SecretKeyRef.Name + "/" + e.ValueFrom.SecretKeyRef.Key
					if seen[n] == "" {
						seen[n] = ref
					} else if seen[n] != ref {
						t.Errorf("%s: %s comes from %s, elsewhere from %s", p.name, n, ref, seen[n])
					}
				}
			}
		}
	})
}

// TestInvariantRestricted: every pod meets the restricted Pod Security Standard.
func TestInvariantRestricted(t *testing.T) {
	forEachCase(t, func(t *testing.T, r *release) {
		if len(r.allPods()) == 0 {
			t.Fatal("no pods")
		}
		for _, p := range r.allPods() {
			sc := p.spec.SecurityContext
			if sc == nil || sc.RunAsNonRoot == nil || !*sc.RunAsNonRoot || sc.SeccompProfile == nil || sc.SeccompProfile.Type != corev1.SeccompProfileTypeRuntimeDefault {
				t.Errorf("%s: pod security context is not restricted: %+v", p.name, sc)
			}
			if sc != nil && sc.RunAsUser != nil && *sc.RunAsUser == 0 {
				t.Errorf("%s: runs as root", p.name)
			}
			if p.spec.HostNetwork || p.spec.HostPID || p.spec.HostIPC {
				t.Errorf("%s: uses host namespaces", p.name)
			}
			for _, v := range p.spec.Volumes {
				if v.HostPath != nil {
					t.Errorf("%s: hostPath volume %s", p.name, v.Name)
				}
			}
			airflowPod := !slices.ContainsFunc(p.spec.Containers, func(c corev1.Container) bool { return nonAirflow[c.Name] })
			checked := 0
			for _, c := range append(p.spec.InitContainers, p.spec.Containers...) {
				checked++
				cs := c.SecurityContext
				// What a container writes goes to its volumes; in an Airflow pod, every container has /tmp.
				if cs == nil || cs.ReadOnlyRootFilesystem == nil || !*cs.ReadOnlyRootFilesystem {
					t.Errorf("%s: container %s has a writable root filesystem", p.name, c.Name)
				}
				if airflowPod && !writableTmp(p.spec, c) {
					t.Errorf("%s: container %s has no writable /tmp (an emptyDir): %v", p.name, c.Name, c.VolumeMounts)
				}
				if cs == nil || cs.AllowPrivilegeEscalation == nil || *cs.AllowPrivilegeEscalation || cs.Capabilities == nil ||
					len(cs.Capabilities.Drop) != 1 || cs.Capabilities.Drop[0] != "ALL" || len(cs.Capabilities.Add) > 0 || (cs.Privileged != nil && *cs.Privileged) {
					t.Errorf("%s: container %s is not restricted: %+v", p.name, c.Name, cs)
				}
				// A spec container's own context is its alone: none of airkube's containers gets it.
				if airkubeContainers[c.Name] && cs != nil && (cs.RunAsUser != nil || cs.RunAsGroup != nil) {
					t.Errorf("%s: airkube's container %s has a uid or gid of its own (a spec container's leaked?): %+v", p.name, c.Name, cs)
				}
				// The pod's runAsNonRoot holds only where no container overrides it.
				if cs != nil && ((cs.RunAsUser != nil && *cs.RunAsUser == 0) || (cs.RunAsNonRoot != nil && !*cs.RunAsNonRoot)) {
					t.Errorf("%s: container %s runs as root", p.name, c.Name)
				}
			}
			if checked == 0 {
				t.Errorf("%s: no containers", p.name)
			}
		}
	})
}

// airkubeContainers are the names of the containers airkube makes (the spec's have other names).
var airkubeContainers = map[string]bool{"api-server": true, "webserver": true, "scheduler": true, "dag-processor": true,
	"triggerer": true, "worker": true, "base": true, "wait-for-migrations": true, "migrate": true,
	"users": true, "log-retention": true, "git-sync": true, "git-sync-init": true, "auth-passwords": true, "redis": true, "statsd": true}

// writableTmp is true when c mounts an emptyDir of spec at /tmp, writable.
func writableTmp(spec corev1.PodSpec, c corev1.Container) bool {
	for _, m := range c.VolumeMounts {
		if m.MountPath != "/tmp" || m.ReadOnly {
			continue
		}
		for _, v := range spec.Volumes {
			if v.Name == m.Name && v.EmptyDir != nil {
				return true
			}
		}
	}
	return false
}

// TestInvariantPodContainers: in every pod, container names are unique (airkube's and the spec's
// init containers and sidecars) and every mount names a volume of the pod.
func TestInvariantPodContainers(t *testing.T) {
	forEachCase(t, func(t *testing.T, r *release) {
		for _, p := range r.allPods() {
			names := map[string]bool{}
			volumes := map[string]bool{}
			for _, v := range p.spec.Volumes {
				if volumes[v.Name] {
					t.Errorf("%s: volume %s twice", p.name, v.Name)
				}
				volumes[v.Name] = true
			}
			for _, c := range append(append([]corev1.Container{}, p.spec.InitContainers...), p.spec.Containers...) {
				if names[c.Name] {
					t.Errorf("%s: container name %s twice", p.name, c.Name)
				}
				names[c.Name] = true
				for _, m := range c.VolumeMounts {
					if !volumes[m.Name] {
						t.Errorf("%s: container %s mounts %s, which is not a volume of the pod", p.name, c.Name, m.Name)
					}
				}
			}
		}
	})
}

// TestInvariantGroupImages: each Celery group's worker and each Kubernetes group's pod
// template run the group's image; every component runs airflow.image.
func TestInvariantGroupImages(t *testing.T) {
	forEachCase(t, func(t *testing.T, r *release) {
		want := map[string]string{}
		for _, g := range r.spec.TaskGroups {
			want[g.Name] = g.Image
		}
		for _, p := range r.airflowPods() {
			c := mainContainer(p)
			switch {
			case p.group != "" && c.Image != want[p.group]:
				t.Errorf("%s: image %s, want task group %s's %s", p.name, c.Image, p.group, want[p.group])
			case p.group == "" && c.Image != r.spec.Airflow.Image:
				t.Errorf("%s: image %s, want airflow.image %s", p.name, c.Image, r.spec.Airflow.Image)
			}
			if strings.HasPrefix(p.name, "pod template") && c.Name != "base" {
				t.Errorf("%s: main container is %q; the KubernetesExecutor needs base", p.name, c.Name)
			}
		}
		for _, g := range r.spec.TaskGroups {
			found := false
			for _, p := range r.airflowPods() {
				found = found || p.group == g.Name
			}
			// LocalExecutor and custom executors run their tasks inside the scheduler.
			if !r.spec.RunsInScheduler(g) && !found {
				t.Errorf("task group %s has neither a worker nor a pod template", g.Name)
			}
		}
	})
}

// TestInvariantKubeClients: every container that mounts the kube-api volume points every Kubernetes
// client at the kubeconfig the one way all provider paths follow: KUBECONFIG. Its kubernetes_default
// connection names only the release's namespace; a kube_config_path (or kube_config, in_cluster)
// there makes the triggerer reject the kubeconfig a deferrable pod operator hands it
// ("mutually exclusive", see generator/model/kubeapi.go).
func TestInvariantKubeClients(t *testing.T) {
	forEachCase(t, func(t *testing.T, r *release) {
		checked := 0
		for _, p := range r.airflowPods() {
			c := mainContainer(p)
			if !mountedAt(c, "/opt/airkube/kube/config") {
				continue
			}
			checked++
			env := map[string]string{}
			for _, e := range c.Env {
				env[e.Name] = e.Value
			}
			if env["KUBECONFIG"] != "/opt/airkube/kube/config" {
				t.Errorf("%s: KUBECONFIG %q, want /opt/airkube/kube/config", p.name, env["KUBECONFIG"])
			}
			var conn struct {
				ConnType string         `json:"conn_type"`
				Extra    map[string]any `json:"extra"`
			}
			if err := json.Unmarshal([]byte(env["AIRFLOW_CONN_KUBERNETES_DEFAULT"]), &conn); err != nil {
				t.Errorf("%s: AIRFLOW_CONN_KUBERNETES_DEFAULT: %v", p.name, err)
				continue
			}
			want := map[string]any{"namespace": r.spec.Metadata.Namespace}
			if conn.ConnType != "kubernetes" || fmt.Sprint(conn.Extra) != fmt.Sprint(want) {
				t.Errorf("%s: kubernetes_default is %s %v, want kubernetes %v", p.name, conn.ConnType, conn.Extra, want)
			}
		}
		// From the spec, not the model: a KubernetesExecutor's scheduler and the pods of tasks that
		// run pod operators are Kubernetes clients. A release with either must have been checked.
		if clients := specKubeClients(r.spec); clients != "" && checked == 0 {
			t.Errorf("the release has %s, but no Airflow container mounts the kubeconfig", clients)
		}
	})
}

// specKubeClients says why a spec's release talks to the Kubernetes API, or "" when it does not.
func specKubeClients(spec *v1alpha1.AirflowRelease) string {
	for _, e := range spec.Executors() {
		if e.Entry == v1alpha1.KubernetesExecutor || e.Entry == v1alpha1.CeleryKubernetesExecutor {
			return "a KubernetesExecutor"
		}
	}
	if spec.KubernetesAPI.PodOperators {
		return "kubernetesAPI.podOperators"
	}
	for _, g := range spec.TaskGroups {
		if g.PodOperators != nil && *g.PodOperators {
			return "taskGroups[" + g.Name + "].podOperators"
		}
	}
	return ""
}

// TestInvariantNoTrailingWhitespace: no rendered line ends in a space or tab, in the manifests (also
// inside ConfigMap files, such as the pod template files) and in NOTES.txt; diffs of releases stay clean.
func TestInvariantNoTrailingWhitespace(t *testing.T) {
	for _, c := range cases(t) {
		t.Run(c.Name, func(t *testing.T) {
			res := c.render(t)
			for what, text := range map[string]string{"manifest": string(res.Manifest), "NOTES.txt": res.Notes} {
				bad := 0
				for i, line := range strings.Split(text, "\n") {
					if strings.TrimRight(line, " \t") != line {
						if bad++; bad <= 5 {
							t.Errorf("%s line %d ends in whitespace: %q", what, i+1, line)
						}
					}
				}
				if bad > 5 {
					t.Errorf("%s: %d lines in all end in whitespace", what, bad)
				}
			}
		})
	}
}

// TestInvariantIdentity: no pod automounts an API token; a pod has the kube-api volume (kubeconfig
// and projected token) only if its ServiceAccount has rights bound to it; a task group with its own
// identity runs all its pods (workers and task pods) as its ServiceAccount, which has rights only
// when the group runs pod operators.
func TestInvariantIdentity(t *testing.T) {
	forEachCase(t, func(t *testing.T, r *release) {
		bound := map[string]bool{}
		for _, o := range r.objects {
			if o["kind"] == "RoleBinding" {
				for _, s := range o["subjects"].([]any) {
					bound[s.(map[string]any)["name"].(string)] = true
				}
			}
		}
		groups := map[string]bool{}
		for _, g := range r.spec.TaskGroups {
			groups[g.Name] = true
		}
		for _, p := range r.airflowPods() {
			if a := p.spec.AutomountServiceAccountToken; a == nil || *a {
				t.Errorf("%s automounts a ServiceAccount token", p.name)
			}
			api := false
			for _, v := range p.spec.Volumes {
				api = api || v.Name == "kube-api"
			}
			if api && !bound[p.spec.ServiceAccountName] {
				t.Errorf("%s has an API token but its ServiceAccount %s has no rights", p.name, p.spec.ServiceAccountName)
			}
			if p.group == "" || !groups[p.group] {
				continue
			}
			for _, g := range r.spec.TaskGroups {
				if g.Name != p.group || g.ServiceAccount == nil {
					continue
				}
				want := r.spec.Metadata.Name + "-group-" + g.Name
				if p.spec.ServiceAccountName != want {
					t.Errorf("%s runs as %s, want the group's own %s", p.name, p.spec.ServiceAccountName, want)
				}
				podOperators := r.spec.KubernetesAPI.PodOperators
				if g.PodOperators != nil {
					podOperators = *g.PodOperators
				}
				if bound[want] != podOperators || api != podOperators {
					t.Errorf("%s: group %s runs pod operators %v, but its ServiceAccount has rights %v and its pods a token %v", p.name, g.Name, podOperators, bound[want], api)
				}
			}
		}
	})
}

// TestInvariantDataVolumes: each task group's pods (workers and task pod templates) mount exactly the
// data volumes the group lists, and each component's exactly those it lists (the scheduler also those
// of the groups whose tasks it runs), each at its mountPath, read-only where the spec says.
func TestInvariantDataVolumes(t *testing.T) {
	forEachCase(t, func(t *testing.T, r *release) {
		byName := map[string]v1alpha1.DataVolume{}
		for _, v := range r.spec.Storage.Volumes {
			byName[v.Name] = v
		}
		listed := map[string][]string{}
		for _, g := range r.spec.TaskGroups {
			listed["group "+g.Name] = g.Volumes
			// LocalExecutor and custom executor groups run their tasks inside the scheduler.
			if r.spec.RunsInScheduler(g) {
				listed["scheduler"] = append(listed["scheduler"], g.Volumes...)
			}
		}
		c := r.spec.Components
		for component, spec := range map[string]*v1alpha1.Component{"api-server": c.APIServer, "webserver": c.APIServer,
			"scheduler": c.Scheduler, "dag-processor": c.DAGProcessor, "triggerer": c.Triggerer} {
			if spec != nil {
				listed[component] = append(listed[component], spec.Volumes...)
			}
		}
		for _, p := range r.airflowPods() {
			owner := p.component
			if p.group != "" {
				owner = "group " + p.group
			}
			want := map[string]v1alpha1.DataVolume{}
			for _, name := range listed[owner] {
				want["data-"+name] = byName[name]
			}
			got := map[string]corev1.VolumeMount{}
			for _, m := range mainContainer(p).VolumeMounts {
				if strings.HasPrefix(m.Name, "data-") {
					got[m.Name] = m
				}
			}
			if len(got) != len(want) {
				t.Errorf("%s mounts data volumes %v, want %s's %v", p.name, keysOf(got), owner, keysOf(want))
			}
			for name, v := range want {
				if m, ok := got[name]; !ok || m.MountPath != v.MountPath || m.ReadOnly != v.ReadOnly {
					t.Errorf("%s: %s mounted %+v, want at %s read-only %v", p.name, name, m, v.MountPath, v.ReadOnly)
				}
			}
		}
	})
}

func keysOf[V any](m map[string]V) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}

// TestInvariantSaferDefaults: what kube-linter, kube-score and polaris ask of a release. Every
// Deployment that can run more than one pod (replicas, an HPA or a KEDA ScaledObject) spreads them
// over nodes (an anti-affinity or a topology spread); every PodDisruptionBudget lets a drain evict
// unhealthy pods, so a crash-looping worker cannot block it; every git-sync sidecar has a liveness probe.
func TestInvariantSaferDefaults(t *testing.T) {
	forEachCase(t, func(t *testing.T, r *release) {
		scaled := map[string]bool{}
		for _, o := range r.objects {
			switch o["kind"] {
			case "HorizontalPodAutoscaler", "ScaledObject":
				ref, _ := o["spec"].(map[string]any)["scaleTargetRef"].(map[string]any)
				scaled[fmt.Sprint(ref["name"])] = true
			case "PodDisruptionBudget":
				if p := o["spec"].(map[string]any)["unhealthyPodEvictionPolicy"]; p != "AlwaysAllow" {
					t.Errorf("PodDisruptionBudget %s: unhealthyPodEvictionPolicy %v, want AlwaysAllow", kindName(o), p)
				}
			}
		}
		for _, d := range r.deployments {
			many := scaled[d.Name] || (d.Spec.Replicas != nil && *d.Spec.Replicas > 1)
			s := d.Spec.Template.Spec
			spread := len(s.TopologySpreadConstraints) > 0 || (s.Affinity != nil && s.Affinity.PodAntiAffinity != nil)
			if many && !spread {
				t.Errorf("Deployment %s runs several pods with neither a pod anti-affinity nor a topology spread", d.Name)
			}
		}
		for _, p := range r.allPods() {
			for _, c := range append(append([]corev1.Container{}, p.spec.InitContainers...), p.spec.Containers...) {
				native := c.RestartPolicy != nil && *c.RestartPolicy == corev1.ContainerRestartPolicyAlways
				isSidecar := native || !slices.ContainsFunc(p.spec.InitContainers, func(i corev1.Container) bool { return i.Name == c.Name })
				if c.Name == "git-sync" && isSidecar && c.LivenessProbe == nil {
					t.Errorf("%s: the git-sync sidecar has no liveness probe", p.name)
				}
			}
		}
	})
}

// TestInvariantManagedKeys: every airflow.cfg key airkube writes, and every AIRFLOW__SECTION__KEY it
// puts in a container's environment, is on validate's managed list (or is a default the user's
// value replaces). A key missing there is one a user could set in airflow.config and see silently
// overwritten: the list must follow the code that sets keys.
func TestInvariantManagedKeys(t *testing.T) {
	forEachCase(t, func(t *testing.T, r *release) {
		managed := map[string]bool{}
		for k := range validate.Managed {
			managed[k] = true
		}
		if r.spec.Metrics != nil {
			for k := range validate.MetricsManaged {
				managed[k] = true
			}
		}
		if r.spec.Storage.DAGs.Git != nil {
			for k := range validate.DAGBundleManaged {
				managed[k] = true
			}
		}
		users := map[string]bool{}
		for _, k := range model.UserDefaults() {
			users[k] = true // a default the user's value replaces
		}
		for section, kv := range r.spec.Airflow.Config {
			for k := range kv {
				users[strings.ToLower(section+"."+k)] = true
			}
		}
		// A _cmd or _secret key sets its base key; some keys' own names end in _secret.
		isManaged := func(k string) bool {
			return managed[k] || managed[strings.TrimSuffix(k, "_cmd")] || managed[strings.TrimSuffix(k, "_secret")]
		}
		seen := 0
		check := func(where, key string) {
			seen++
			if !isManaged(key) && !users[key] {
				t.Errorf("%s: airkube sets %s, which validate.Managed does not list: a user's airflow.config value would be overwritten silently", where, key)
			}
		}
		for _, k := range slices.Sorted(maps.Keys(r.cfg)) {
			check("airflow.cfg", k)
		}
		for _, p := range r.airflowPods() {
			for _, c := range append(append([]corev1.Container{}, p.spec.InitContainers...), p.spec.Containers...) {
				for _, e := range c.Env {
					if rest, ok := strings.CutPrefix(e.Name, "AIRFLOW__"); ok {
						section, key, _ := strings.Cut(rest, "__")
						check(p.name+" "+c.Name+" env", strings.ToLower(section+"."+key))
					}
				}
			}
		}
		if seen == 0 {
			t.Fatal("no airflow.cfg key or AIRFLOW__ variable found to check")
		}
	})
}
