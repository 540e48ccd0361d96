package model

import (
	"net"
	"net/url"
	"sort"
	"strconv"

	corev1 "k8s.io/api/core/v1"
	networkingv1 "k8s.io/api/networking/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/intstr"
)

// NetworkPolicy is one component's ingress policy. The chart selects the component's pods (every task
// group's, for workers); no Ingress rule at all means nothing may connect to them.
type NetworkPolicy struct {
	Name      string                                  `json:"name"`
	Component string                                  `json:"component"`
	Ingress   []networkingv1.NetworkPolicyIngressRule `json:"ingress,omitempty"`
	// Egress, when set, is all the component's pods may connect to (networkPolicy.egress).
	Egress []networkingv1.NetworkPolicyEgressRule `json:"egress,omitempty"`
}

// releasePods selects every pod of the release in its namespace: components, workers, task pods, Jobs.
func (r *release) releasePods() networkingv1.NetworkPolicyPeer {
	return networkingv1.NetworkPolicyPeer{PodSelector: &metav1.LabelSelector{MatchLabels: map[string]string{
		"app.kubernetes.io/name": "airflow", "app.kubernetes.io/instance": r.Metadata.Name}}}
}

// networkPolicies gives each long-running component a policy that opens its ports to the release's own
// pods only (the api-server's execution API, Redis, the log servers, StatsD), the UI port also to
// uiFrom, the StatsD exporter's metrics port also to every namespace (see metricsScrapers), and
// closes every other pod of the release (task pods, Jobs, dag-processor) to all incoming traffic.
// Kubelet probes come from the node, which NetworkPolicies do not cover.
func (r *release) networkPolicies(workloads []Workload, closed []string) []NetworkPolicy {
	if !r.NetworkPolicy.Enabled {
		return nil
	}
	ports := map[string][]corev1.ContainerPort{}
	var order []string
	for _, w := range workloads {
		if _, seen := ports[w.Component]; !seen {
			order = append(order, w.Component)
			ports[w.Component] = nil
		}
		for _, p := range w.Ports {
			if !hasPort(ports[w.Component], p) {
				ports[w.Component] = append(ports[w.Component], p)
			}
		}
	}
	uiFrom := r.NetworkPolicy.UIFrom
	if len(uiFrom) == 0 && (r.UI.Ingress != nil || r.UI.Gateway != nil) {
		// The ingress controller or gateway runs in a namespace airkube cannot know.
		uiFrom = []networkingv1.NetworkPolicyPeer{{NamespaceSelector: &metav1.LabelSelector{}}}
	}
	var out []NetworkPolicy
	for _, c := range order {
		np := NetworkPolicy{Name: r.name(c), Component: c}
		if ps := ports[c]; len(ps) > 0 {
			np.Ingress = []networkingv1.NetworkPolicyIngressRule{{From: []networkingv1.NetworkPolicyPeer{r.releasePods()}, Ports: policyPorts(ps)}}
		}
		if (c == "api-server" || c == "webserver") && len(uiFrom) > 0 {
			np.Ingress = append(np.Ingress, networkingv1.NetworkPolicyIngressRule{From: uiFrom,
				Ports: policyPorts([]corev1.ContainerPort{{ContainerPort: APIPort, Protocol: corev1.ProtocolTCP}})})
		}
		if c == statsdComponent {
			np.Ingress = append(np.Ingress, metricsScrapers())
		}
		out = append(out, np)
	}
	sort.Strings(closed)
	for _, c := range closed {
		out = append(out, NetworkPolicy{Name: r.name(c), Component: c})
	}
	if egress := r.egressRules(); egress != nil {
		for i := range out {
			out[i].Egress = egress
		}
	}
	return out
}

// egressRules are where every pod of the release may connect with networkPolicy.egress, nil without
// it: DNS; the database's port (its address, when the host is one; a host name's address is not
// known here, so any address on that port); for a release that uses the Kubernetes API (the
// KubernetesExecutor, pod operators), its ports (443 and 6443, where its Service's endpoints listen,
// and kubernetesAPI.server's own) at egress.kubernetesAPI's addresses, or any address without them;
// the release's own pods, on the ports their ingress policies open; and the listed CIDRs.
func (r *release) egressRules() []networkingv1.NetworkPolicyEgressRule {
	e := r.NetworkPolicy.Egress
	if e == nil || !r.NetworkPolicy.Enabled {
		return nil
	}
	port := func(proto corev1.Protocol, n int32) networkingv1.NetworkPolicyPort {
		p := intstr.FromInt32(n)
		return networkingv1.NetworkPolicyPort{Protocol: &proto, Port: &p}
	}
	rules := []networkingv1.NetworkPolicyEgressRule{
		{Ports: []networkingv1.NetworkPolicyPort{port(corev1.ProtocolUDP, 53), port(corev1.ProtocolTCP, 53)}},
		{To: []networkingv1.NetworkPolicyPeer{r.releasePods()}},
	}
	if d := r.Database; d.ConnectionSecret == nil {
		db := networkingv1.NetworkPolicyEgressRule{Ports: []networkingv1.NetworkPolicyPort{port(corev1.ProtocolTCP, d.Port)}}
		if ip := net.ParseIP(d.Host); ip != nil {
			db.To = []networkingv1.NetworkPolicyPeer{{IPBlock: &networkingv1.IPBlock{CIDR: hostCIDR(ip)}}}
		}
		rules = append(rules, db)
	}
	if r.schedulerAPI() || r.anyPodOperators() {
		api := networkingv1.NetworkPolicyEgressRule{Ports: []networkingv1.NetworkPolicyPort{port(corev1.ProtocolTCP, 443), port(corev1.ProtocolTCP, 6443)}}
		if u, err := url.Parse(r.KubernetesAPI.Server); err == nil && u.Port() != "" && u.Port() != "443" && u.Port() != "6443" {
			if n, err := strconv.ParseInt(u.Port(), 10, 32); err == nil {
				api.Ports = append(api.Ports, port(corev1.ProtocolTCP, int32(n)))
			}
		}
		for _, cidr := range e.KubernetesAPI {
			api.To = append(api.To, networkingv1.NetworkPolicyPeer{IPBlock: &networkingv1.IPBlock{CIDR: cidr}})
		}
		rules = append(rules, api)
	}
	if len(e.To) > 0 {
		var to []networkingv1.NetworkPolicyPeer
		for _, cidr := range e.To {
			to = append(to, networkingv1.NetworkPolicyPeer{IPBlock: &networkingv1.IPBlock{CIDR: cidr}})
		}
		rules = append(rules, networkingv1.NetworkPolicyEgressRule{To: to})
	}
	return rules
}

// hostCIDR is the one-address block of an IP.
func hostCIDR(ip net.IP) string {
	if ip.To4() != nil {
		return ip.String() + "/32"
	}
	return ip.String() + "/128"
}

func hasPort(ps []corev1.ContainerPort, p corev1.ContainerPort) bool {
	for _, q := range ps {
		if q.ContainerPort == p.ContainerPort && q.Protocol == p.Protocol {
			return true
		}
	}
	return false
}

// policyPorts are container ports as policy ports, by number (a name may differ between groups).
func policyPorts(ps []corev1.ContainerPort) []networkingv1.NetworkPolicyPort {
	var out []networkingv1.NetworkPolicyPort
	for _, p := range ps {
		proto := p.Protocol
		if proto == "" {
			proto = corev1.ProtocolTCP
		}
		port := intstr.FromInt32(p.ContainerPort)
		out = append(out, networkingv1.NetworkPolicyPort{Protocol: &proto, Port: &port})
	}
	return out
}
