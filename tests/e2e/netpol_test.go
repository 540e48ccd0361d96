//go:build e2e

package e2e

import (
	"bytes"
	"encoding/json"
	"os/exec"
	"path/filepath"
	"sort"
	"strings"
	"testing"

	"sigs.k8s.io/yaml"
)

// pod is who a flow starts from or goes to: its namespace and labels, as NetworkPolicies see them.
type pod struct {
	Namespace       string            `json:"namespace"`
	NamespaceLabels map[string]string `json:"namespaceLabels"`
	PodLabels       map[string]string `json:"podLabels"`
	IP              string            `json:"ip"`
}

type flow struct {
	Name     string `json:"name"`
	From     pod    `json:"from"`
	To       pod    `json:"to"`
	Port     int    `json:"port"`
	Protocol string `json:"protocol,omitempty"`
	allowed  bool
}

// releasePods maps each pod kind of a rendered release ("api-server", "worker/gis", "task/fortran",
// "migrate" ...) to its pod's labels, from the Deployments', Jobs' and pod template files' metadata.
func releasePods(t *testing.T, manifest []byte, ns string) map[string]pod {
	t.Helper()
	out := map[string]pod{}
	add := func(labels map[string]any) {
		l := map[string]string{}
		for k, v := range labels {
			l[k] = v.(string)
		}
		key := l["app.kubernetes.io/component"]
		if g := l["airkube.dev/task-group"]; g != "" {
			key += "/" + g
		}
		out[key] = pod{Namespace: ns, NamespaceLabels: map[string]string{"kubernetes.io/metadata.name": ns}, PodLabels: l, IP: "10.244.0.10"}
	}
	for _, o := range objects(t, manifest) {
		switch o.GetKind() {
		case "Deployment", "Job":
			labels, _, _ := unstructuredMap(o.Object, "spec", "template", "metadata", "labels")
			add(labels)
		case "CronJob":
			labels, _, _ := unstructuredMap(o.Object, "spec", "jobTemplate", "spec", "template", "metadata", "labels")
			add(labels)
		case "ConfigMap":
			if !strings.HasSuffix(o.GetName(), "-pod-templates") {
				continue
			}
			data, _, _ := unstructuredMap(o.Object, "data")
			for _, text := range data {
				var p struct {
					Metadata struct {
						Labels map[string]any `json:"labels"`
					} `json:"metadata"`
				}
				if err := yaml.Unmarshal([]byte(text.(string)), &p); err != nil {
					t.Fatal(err)
				}
				add(p.Metadata.Labels)
			}
		}
	}
	return out
}

func unstructuredMap(obj map[string]any, path ...string) (map[string]any, bool, error) {
	cur := obj
	for _, p := range path {
		next, ok := cur[p].(map[string]any)
		if !ok {
			return nil, false, nil
		}
		cur = next
	}
	return cur, true, nil
}

// evaluate asks cyclonus's matcher (hack/tools/netpol, a module of its own) about every flow.
func evaluate(t *testing.T, manifest []byte, ns string, flows []flow) map[string]bool {
	t.Helper()
	bin := filepath.Join(t.TempDir(), "netpol")
	build := exec.Command("go", "build", "-o", bin, ".")
	build.Dir = filepath.Join(repoRoot, "hack", "tools", "netpol")
	build.Env = append(build.Environ(), "GOWORK=off")
	if out, err := build.CombinedOutput(); err != nil {
		t.Fatalf("building hack/tools/netpol: %v\n%s", err, out)
	}
	var policies []map[string]any
	for _, o := range objects(t, manifest) {
		if o.GetKind() == "NetworkPolicy" {
			o.SetNamespace(ns) // helm install --namespace sets it
			policies = append(policies, o.Object)
		}
	}
	if len(policies) == 0 {
		t.Fatal("the release renders no NetworkPolicy")
	}
	in, _ := json.Marshal(map[string]any{"policies": policies, "flows": flows})
	cmd := exec.Command(bin)
	cmd.Stdin = bytes.NewReader(in)
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("netpol: %v", err)
	}
	var verdicts []struct {
		Name    string `json:"name"`
		Allowed bool   `json:"allowed"`
	}
	if err := json.Unmarshal(out, &verdicts); err != nil {
		t.Fatalf("netpol output %s: %v", out, err)
	}
	got := map[string]bool{}
	for _, v := range verdicts {
		got[v.Name] = v.Allowed
	}
	return got
}

// TestE2ENetworkPolicies evaluates the rendered NetworkPolicies of the weather release, of a 2.11
// release behind an Ingress and of a release with metrics against the flows each release needs (which
// must be allowed) and a few that nothing needs (which must be denied), with cyclonus's policy matcher.
func TestE2ENetworkPolicies(t *testing.T) {
	kwokOnly(t)
	other := pod{Namespace: "tenant-b", NamespaceLabels: map[string]string{"kubernetes.io/metadata.name": "tenant-b"},
		PodLabels: map[string]string{"app": "curious"}, IP: "10.244.1.20"}
	ingress := pod{Namespace: "ingress-nginx", NamespaceLabels: map[string]string{"kubernetes.io/metadata.name": "ingress-nginx"},
		PodLabels: map[string]string{"app.kubernetes.io/name": "ingress-nginx"}, IP: "10.244.1.30"}

	t.Run("weather-etl", func(t *testing.T) {
		res := renderWith(t, filepath.Join(repoRoot, "values", "weather-etl.yaml"), []string{filepath.Join(repoRoot, "overlays", "production")})
		p := releasePods(t, res.Manifest, res.Release.Metadata.Namespace)
		for _, want := range []string{"api-server", "scheduler", "triggerer", "dag-processor", "redis", "worker/default", "worker/gis", "task/fortran", "migrate", "log-retention"} {
			if _, ok := p[want]; !ok {
				t.Fatalf("no %s pod in the release: %v", want, keys(p))
			}
		}
		flows := []flow{
			{Name: "scheduler -> redis", From: p["scheduler"], To: p["redis"], Port: 6379, allowed: true},
			{Name: "worker default -> redis", From: p["worker/default"], To: p["redis"], Port: 6379, allowed: true},
			{Name: "worker gis -> redis", From: p["worker/gis"], To: p["redis"], Port: 6379, allowed: true},
			{Name: "worker gis -> api-server (execution API)", From: p["worker/gis"], To: p["api-server"], Port: 8080, allowed: true},
			{Name: "task pod fortran -> api-server (execution API)", From: p["task/fortran"], To: p["api-server"], Port: 8080, allowed: true},
			{Name: "triggerer -> api-server", From: p["triggerer"], To: p["api-server"], Port: 8080, allowed: true},
			{Name: "dag-processor -> api-server", From: p["dag-processor"], To: p["api-server"], Port: 8080, allowed: true},
			{Name: "api-server -> worker default (task logs)", From: p["api-server"], To: p["worker/default"], Port: 8793, allowed: true},
			{Name: "api-server -> triggerer (trigger logs)", From: p["api-server"], To: p["triggerer"], Port: 8794, allowed: true},
			{Name: "another namespace -> redis", From: other, To: p["redis"], Port: 6379},
			{Name: "another namespace -> api-server (no ui route)", From: other, To: p["api-server"], Port: 8080},
			{Name: "another namespace -> worker logs", From: other, To: p["worker/gis"], Port: 8793},
			{Name: "another namespace -> scheduler health", From: other, To: p["scheduler"], Port: 8974},
			{Name: "worker -> redis on another port", From: p["worker/gis"], To: p["redis"], Port: 6380},
			{Name: "worker -> task pod", From: p["worker/default"], To: p["task/fortran"], Port: 8793},
			{Name: "api-server -> dag-processor", From: p["api-server"], To: p["dag-processor"], Port: 8793},
			{Name: "api-server -> migration Job", From: p["api-server"], To: p["migrate"], Port: 8080},
			{Name: "another namespace -> log retention", From: other, To: p["log-retention"], Port: 22},
		}
		check(t, res.Manifest, res.Release.Metadata.Namespace, flows)
	})

	t.Run("local-2.11 behind an Ingress", func(t *testing.T) {
		res := renderWith(t, filepath.Join(repoRoot, "tests", "golden", "local-2.11", "spec.yaml"), nil)
		p := releasePods(t, res.Manifest, res.Release.Metadata.Namespace)
		flows := []flow{
			{Name: "ingress controller -> webserver", From: ingress, To: p["webserver"], Port: 8080, allowed: true},
			{Name: "webserver -> scheduler (LocalExecutor task logs)", From: p["webserver"], To: p["scheduler"], Port: 8793, allowed: true},
			{Name: "another namespace -> webserver", From: other, To: p["webserver"], Port: 8080},
			{Name: "ingress controller -> scheduler", From: ingress, To: p["scheduler"], Port: 8793},
			{Name: "webserver -> users Job", From: p["webserver"], To: p["users"], Port: 8080},
		}
		check(t, res.Manifest, res.Release.Metadata.Namespace, flows)
	})

	t.Run("metrics-3.3 scraped from another namespace", func(t *testing.T) {
		res := renderWith(t, filepath.Join(repoRoot, "tests", "golden", "metrics-3.3", "spec.yaml"), nil)
		p := releasePods(t, res.Manifest, res.Release.Metadata.Namespace)
		prometheus := pod{Namespace: "monitoring", NamespaceLabels: map[string]string{"kubernetes.io/metadata.name": "monitoring"},
			PodLabels: map[string]string{"app.kubernetes.io/name": "prometheus"}, IP: "10.244.1.40"}
		flows := []flow{
			{Name: "scheduler -> statsd", From: p["scheduler"], To: p["statsd"], Port: 9125, Protocol: "UDP", allowed: true},
			{Name: "worker default -> statsd", From: p["worker/default"], To: p["statsd"], Port: 9125, Protocol: "UDP", allowed: true},
			{Name: "task pod pods -> statsd", From: p["task/pods"], To: p["statsd"], Port: 9125, Protocol: "UDP", allowed: true},
			{Name: "migration Job -> statsd", From: p["migrate"], To: p["statsd"], Port: 9125, Protocol: "UDP", allowed: true},
			{Name: "prometheus -> statsd metrics", From: prometheus, To: p["statsd"], Port: 9102, allowed: true},
			{Name: "prometheus -> statsd StatsD port", From: prometheus, To: p["statsd"], Port: 9125, Protocol: "UDP"},
			{Name: "another namespace -> statsd StatsD port", From: other, To: p["statsd"], Port: 9125, Protocol: "UDP"},
			{Name: "prometheus -> scheduler health", From: prometheus, To: p["scheduler"], Port: 8974},
		}
		check(t, res.Manifest, res.Release.Metadata.Namespace, flows)
	})
}

// TestE2ENetworkPolicyEgress evaluates a release with networkPolicy.egress: its pods reach DNS, the
// database at its address, the Kubernetes API at its addresses, each other and the listed CIDRs, and
// nothing else; incoming traffic is limited as without it.
func TestE2ENetworkPolicyEgress(t *testing.T) {
	kwokOnly(t)
	res := renderWith(t, filepath.Join(repoRoot, "tests", "golden", "egress-3.3", "spec.yaml"), nil)
	p := releasePods(t, res.Manifest, res.Release.Metadata.Namespace)
	for _, want := range []string{"api-server", "scheduler", "dag-processor", "triggerer", "redis", "worker/default", "task/pods", "migrate"} {
		if _, ok := p[want]; !ok {
			t.Fatalf("no %s pod in the release: %v", want, keys(p))
		}
	}
	outside := func(ip string) pod { return pod{IP: ip} }
	dns, db, api, store, git := outside("10.96.0.10"), outside("10.30.0.15"), outside("172.20.0.5"), outside("10.40.7.7"), outside("192.0.2.10")
	internet := outside("203.0.113.7")
	flows := []flow{
		{Name: "worker -> DNS", From: p["worker/default"], To: dns, Port: 53, Protocol: "UDP", allowed: true},
		{Name: "task pod -> DNS over TCP", From: p["task/pods"], To: dns, Port: 53, allowed: true},
		{Name: "migration Job -> database", From: p["migrate"], To: db, Port: 5432, allowed: true},
		{Name: "task pod -> database", From: p["task/pods"], To: db, Port: 5432, allowed: true},
		{Name: "scheduler -> Kubernetes API (KubernetesExecutor)", From: p["scheduler"], To: api, Port: 6443, allowed: true},
		{Name: "scheduler -> kubernetesAPI.server's port", From: p["scheduler"], To: api, Port: 8443, allowed: true},
		{Name: "worker -> redis", From: p["worker/default"], To: p["redis"], Port: 6379, allowed: true},
		{Name: "task pod -> api-server (execution API)", From: p["task/pods"], To: p["api-server"], Port: 8080, allowed: true},
		{Name: "api-server -> worker logs", From: p["api-server"], To: p["worker/default"], Port: 8793, allowed: true},
		{Name: "worker -> log store (egress.to)", From: p["worker/default"], To: store, Port: 443, allowed: true},
		{Name: "dag-processor -> git server (egress.to)", From: p["dag-processor"], To: git, Port: 443, allowed: true},
		{Name: "worker -> the internet over HTTPS", From: p["worker/default"], To: internet, Port: 443},
		{Name: "task pod -> the internet over HTTP", From: p["task/pods"], To: internet, Port: 80},
		{Name: "worker -> another address on the database port", From: p["worker/default"], To: internet, Port: 5432},
		{Name: "api-server -> the database's address on another port", From: p["api-server"], To: db, Port: 22},
		{Name: "task pod -> a pod of another namespace", From: p["task/pods"], To: pod{Namespace: "tenant-b",
			NamespaceLabels: map[string]string{"kubernetes.io/metadata.name": "tenant-b"}, PodLabels: map[string]string{"app": "x"}, IP: "10.244.1.20"}, Port: 8080},
	}
	check(t, res.Manifest, res.Release.Metadata.Namespace, flows)
}

func check(t *testing.T, manifest []byte, ns string, flows []flow) {
	t.Helper()
	got := evaluate(t, manifest, ns, flows)
	for _, f := range flows {
		verdict := map[bool]string{true: "allowed", false: "denied"}
		if a, ok := got[f.Name]; !ok || a != f.allowed {
			t.Errorf("%s (port %d): %s, want %s", f.Name, f.Port, verdict[a], verdict[f.allowed])
		} else {
			t.Logf("%s (port %d): %s", f.Name, f.Port, verdict[a])
		}
	}
}

func keys[V any](m map[string]V) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}
