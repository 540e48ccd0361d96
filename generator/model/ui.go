package model

import (
	"net/url"
	"strings"
)

// UIRoute is how users reach the api-server (3.x) or webserver (2.x) from outside: an Ingress or an
// HTTPRoute for the base URL's host and path, to the component's Service.
type UIRoute struct {
	Name string `json:"name"`
	// Host and Path are the base URL's; Path is "/" without one.
	Host    string `json:"host"`
	Path    string `json:"path"`
	Service string `json:"service"`
	Port    int32  `json:"port"`
	// Ingress or HTTPRoute, exactly one.
	Ingress   *IngressRoute `json:"ingress,omitempty"`
	HTTPRoute *GatewayRoute `json:"httpRoute,omitempty"`
}

// IngressRoute is a networking.k8s.io/v1 Ingress's own settings.
type IngressRoute struct {
	ClassName   string            `json:"className,omitempty"`
	TLSSecret   string            `json:"tlsSecret,omitempty"`
	Annotations map[string]string `json:"annotations,omitempty"`
}

// GatewayRoute is the Gateway a gateway.networking.k8s.io/v1 HTTPRoute attaches to.
type GatewayRoute struct {
	Gateway     string `json:"gateway"`
	Namespace   string `json:"namespace"`
	SectionName string `json:"sectionName,omitempty"`
}

// baseURL is ui.baseURL without a trailing slash ("" when unset).
func (r *release) baseURL() string {
	return strings.TrimSuffix(r.UI.BaseURL, "/")
}

// basePath is the base URL's path without a trailing slash: "" at the host's root.
func (r *release) basePath() string {
	if u, err := url.Parse(r.baseURL()); err == nil {
		return strings.TrimSuffix(u.Path, "/")
	}
	return ""
}

// uiRoute is the Ingress or HTTPRoute of ui, or nil.
func (r *release) uiRoute() *UIRoute {
	ui := r.UI
	if ui.Ingress == nil && ui.Gateway == nil {
		return nil
	}
	u, _ := url.Parse(r.baseURL())
	route := &UIRoute{Name: r.apiServerName(), Host: u.Hostname(), Path: r.basePath(), Service: r.apiServerName(), Port: APIPort}
	if route.Path == "" {
		route.Path = "/"
	}
	if i := ui.Ingress; i != nil {
		route.Ingress = &IngressRoute{ClassName: i.ClassName, TLSSecret: i.TLSSecret, Annotations: i.Annotations}
	} else {
		g := ui.Gateway
		route.HTTPRoute = &GatewayRoute{Gateway: g.Name, Namespace: g.Namespace, SectionName: g.SectionName}
		if route.HTTPRoute.Namespace == "" {
			route.HTTPRoute.Namespace = r.Metadata.Namespace
		}
	}
	return route
}
