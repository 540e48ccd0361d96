package validate

import (
	"fmt"
	"net"
	"net/url"
	"slices"
	"strings"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/airkube/airkube/generator/apis/v1alpha1"
)

func (c *checker) ui(u *v1alpha1.UI) {
	routed := u.Ingress != nil || u.Gateway != nil
	if u.Ingress != nil && u.Gateway != nil {
		c.errorf("ui.gateway", "give one of ingress or gateway, not both")
	}
	var https bool
	switch parsed, err := url.Parse(u.BaseURL); {
	case u.BaseURL == "":
		if routed {
			c.errorf("ui.baseURL", "required with an ingress or gateway: its host and path are the route's, e.g. https://airflow.example.com/weather")
		}
	case err != nil || (parsed.Scheme != "http" && parsed.Scheme != "https") || parsed.Host == "" || parsed.User != nil ||
		parsed.RawQuery != "" || parsed.Fragment != "" || parsed.Opaque != "":
		c.errorf("ui.baseURL", "%q is not a URL like https://airflow.example.com or https://example.com/airflow (http or https, a host, an optional path, no query)", u.BaseURL)
	default:
		https = parsed.Scheme == "https"
		host := parsed.Hostname()
		if routed && (net.ParseIP(host) != nil || !dnsSubdomain.MatchString(host)) {
			c.errorf("ui.baseURL", "host %q is not a DNS name, which an Ingress or HTTPRoute needs", host)
		}
	}
	if i := u.Ingress; i != nil {
		if i.ClassName != "" && !dnsSubdomain.MatchString(i.ClassName) {
			c.errorf("ui.ingress.className", "%q is not an IngressClass name", i.ClassName)
		}
		if i.TLSSecret != "" && !dnsSubdomain.MatchString(i.TLSSecret) {
			c.errorf("ui.ingress.tlsSecret", "%q is not a Secret name", i.TLSSecret)
		}
		if i.TLSSecret != "" && u.BaseURL != "" && !https {
			c.errorf("ui.ingress.tlsSecret", "serves TLS, but ui.baseURL is http: make it https://")
		}
	}
	if g := u.Gateway; g != nil {
		if g.Name == "" || !dnsSubdomain.MatchString(g.Name) {
			c.errorf("ui.gateway.name", "required: the name of the Gateway to attach the route to")
		}
		if g.Namespace != "" {
			c.label("ui.gateway.namespace", g.Namespace, 63)
		}
		if g.SectionName != "" && !dnsSubdomain.MatchString(g.SectionName) {
			c.errorf("ui.gateway.sectionName", "%q is not a listener name", g.SectionName)
		}
	}
}

func (c *checker) networkPolicy(r *v1alpha1.AirflowRelease) {
	n := &r.NetworkPolicy
	if len(n.UIFrom) > 0 && !n.Enabled {
		c.errorf("networkPolicy.uiFrom", "only used with networkPolicy.enabled: true")
	}
	if e := n.Egress; e != nil {
		if !n.Enabled {
			c.errorf("networkPolicy.egress", "only used with networkPolicy.enabled: true")
		}
		for field, cidrs := range map[string][]string{"to": e.To, "kubernetesAPI": e.KubernetesAPI} {
			for i, cidr := range cidrs {
				if _, _, err := net.ParseCIDR(cidr); err != nil {
					c.errorf(fmt.Sprintf("networkPolicy.egress.%s[%d]", field, i), "%q is not a CIDR like 10.20.0.0/16 (one address: 10.20.0.5/32)", cidr)
				}
			}
		}
		if usesAPI := r.ExecutorSet().Kubernetes || r.KubernetesAPI.PodOperators || slices.ContainsFunc(r.TaskGroups, func(g v1alpha1.TaskGroup) bool {
			return g.PodOperators != nil && *g.PodOperators
		}); n.Enabled && usesAPI && len(e.KubernetesAPI) == 0 {
			c.warnf("networkPolicy.egress", "the release uses the Kubernetes API: without egress.kubernetesAPI (the API server's addresses) its ports 443 and 6443 stay open to any address")
		}
		if outside := outsideEndpoints(r); n.Enabled && len(outside) > 0 {
			c.warnf("networkPolicy.egress", "the release also connects to %s: put their addresses in networkPolicy.egress.to, or those connections are refused", strings.Join(outside, ", "))
		}
	}
	for i, p := range n.UIFrom {
		path := fmt.Sprintf("networkPolicy.uiFrom[%d]", i)
		if p.PodSelector == nil && p.NamespaceSelector == nil && p.IPBlock == nil {
			c.errorf(path, "give podSelector, namespaceSelector or ipBlock")
		}
		if b := p.IPBlock; b != nil {
			if _, _, err := net.ParseCIDR(b.CIDR); err != nil {
				c.errorf(path+".ipBlock.cidr", "%q is not a CIDR like 10.0.0.0/8", b.CIDR)
			}
		}
		for _, s := range []*metav1.LabelSelector{p.PodSelector, p.NamespaceSelector} {
			if _, err := metav1.LabelSelectorAsSelector(s); s != nil && err != nil {
				c.errorf(path, "not a label selector: %v", err)
			}
		}
	}
}

// outsideEndpoints names what a release connects to beyond DNS, the database, the Kubernetes API and
// its own pods: what networkPolicy.egress.to must list.
func outsideEndpoints(r *v1alpha1.AirflowRelease) []string {
	var out []string
	if b := r.Broker; b != nil && b.URLSecret != nil {
		out = append(out, "the broker (broker.urlSecret)")
	}
	if g := r.Storage.DAGs.GitSync; g != nil {
		out = append(out, "the git-sync repository "+g.Repo)
	}
	if g := r.Storage.DAGs.Git; g != nil {
		out = append(out, "the DAG bundle's repository "+g.Repo)
	}
	if l := r.Storage.Logs.Remote; l != nil {
		out = append(out, "the log store "+l.BaseLogFolder)
	}
	if x := r.XCom.ObjectStorage; x != nil && !strings.HasPrefix(x.Path, "file://") {
		out = append(out, "the XCom store "+x.Path)
	}
	if b := r.Airflow.SecretsBackend; b != nil {
		out = append(out, "the secrets backend")
	}
	if len(r.Airflow.Connections) > 0 {
		out = append(out, "the systems of airflow.connections")
	}
	return out
}
