package tests

import (
	"strconv"
	"strings"
	"testing"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/labels"
)

// TestInvariantMetricsWiring: with metrics, the airflow.cfg every Airflow pod reads sends StatsD to a
// Service of the release, on a UDP port that reaches the exporter's StatsD port; the exporter reads
// its mapping from the ConfigMap mounted where its args say; a ServiceMonitor selects that Service by a
// port it has. Without metrics there is none of it.
func TestInvariantMetricsWiring(t *testing.T) {
	forEachCase(t, func(t *testing.T, r *release) {
		var services []corev1.Service
		var monitors []object
		configMaps := map[string]corev1.ConfigMap{}
		for _, o := range r.objects {
			switch o["kind"] {
			case "Service":
				var s corev1.Service
				convert(t, o, &s)
				services = append(services, s)
			case "ServiceMonitor":
				monitors = append(monitors, o)
			case "ConfigMap":
				var cm corev1.ConfigMap
				convert(t, o, &cm)
				configMaps[cm.Name] = cm
			}
		}
		var exporters []appsv1.Deployment
		for _, d := range r.deployments {
			if d.Spec.Template.Labels["app.kubernetes.io/component"] == "statsd" {
				exporters = append(exporters, d)
			}
		}
		if r.spec.Metrics == nil {
			if len(exporters) > 0 || len(monitors) > 0 || r.cfg["metrics.statsd_on"] != "" {
				t.Fatalf("no metrics in the spec, but %d exporters, %d ServiceMonitors, statsd_on %q", len(exporters), len(monitors), r.cfg["metrics.statsd_on"])
			}
			return
		}
		if r.cfg["metrics.statsd_on"] != "True" || len(exporters) != 1 {
			t.Fatalf("statsd_on %q and %d exporters, want True and 1", r.cfg["metrics.statsd_on"], len(exporters))
		}
		exporter := exporters[0].Spec.Template
		host, ns, _ := strings.Cut(r.cfg["metrics.statsd_host"], ".")
		if ns != r.spec.Metadata.Namespace {
			t.Errorf("statsd_host %s is not a Service of namespace %s", r.cfg["metrics.statsd_host"], r.spec.Metadata.Namespace)
		}
		port, _ := strconv.Atoi(r.cfg["metrics.statsd_port"])
		var svc *corev1.Service
		for i := range services {
			if services[i].Name == host {
				svc = &services[i]
			}
		}
		if svc == nil {
			t.Fatalf("statsd_host %s: no such Service", host)
		}
		if !labels.SelectorFromSet(svc.Spec.Selector).Matches(labels.Set(exporter.Labels)) {
			t.Errorf("Service %s does not select the exporter's pods", svc.Name)
		}
		c := exporter.Spec.Containers[0]
		reaches := false
		for _, sp := range svc.Spec.Ports {
			for _, cp := range c.Ports {
				if int(sp.Port) == port && sp.Protocol == corev1.ProtocolUDP && cp.Protocol == corev1.ProtocolUDP && sp.TargetPort.String() == cp.Name {
					reaches = true
				}
			}
		}
		if !reaches {
			t.Errorf("no UDP port %d of Service %s reaches a UDP port of the exporter (%v -> %v)", port, svc.Name, svc.Spec.Ports, c.Ports)
		}

		// The mapping file named by the args is a key of a mounted ConfigMap.
		var mapping string
		for _, a := range c.Args {
			if v, ok := strings.CutPrefix(a, "--statsd.mapping-config="); ok {
				mapping = v
			}
		}
		found := false
		for _, m := range c.VolumeMounts {
			for _, v := range exporter.Spec.Volumes {
				if v.Name != m.Name || v.ConfigMap == nil || !strings.HasPrefix(mapping, m.MountPath+"/") {
					continue
				}
				_, found = configMaps[v.ConfigMap.Name].Data[strings.TrimPrefix(mapping, m.MountPath+"/")]
			}
		}
		if !found {
			t.Errorf("the exporter reads %q, which no mounted ConfigMap holds", mapping)
		}

		if r.spec.Metrics.ServiceMonitor != (len(monitors) == 1) || len(monitors) > 1 {
			t.Fatalf("serviceMonitor %v, %d ServiceMonitors", r.spec.Metrics.ServiceMonitor, len(monitors))
		}
		for _, m := range monitors {
			spec := m["spec"].(map[string]any)
			sel := map[string]string{}
			for k, v := range spec["selector"].(map[string]any)["matchLabels"].(map[string]any) {
				sel[k] = v.(string)
			}
			if !labels.SelectorFromSet(sel).Matches(labels.Set(svc.Labels)) {
				t.Errorf("the ServiceMonitor's selector %v does not select Service %s %v", sel, svc.Name, svc.Labels)
			}
			for _, e := range spec["endpoints"].([]any) {
				name := e.(map[string]any)["port"]
				ok := false
				for _, sp := range svc.Spec.Ports {
					ok = ok || sp.Name == name
				}
				if !ok {
					t.Errorf("the ServiceMonitor scrapes port %v, which Service %s lacks", name, svc.Name)
				}
			}
		}
	})
}
