package validate

import (
	"fmt"
	"net/url"
	pathpkg "path"
	"regexp"
	"slices"
	"sort"
	"strings"
	"time"

	"k8s.io/apimachinery/pkg/api/resource"

	"github.com/airkube/airkube/generator/apis/v1alpha1"
)

// nested says whether one path is the other or lies inside it.
func nested(a, b string) bool {
	return inside(a, b) || inside(b, a)
}

// inside says whether path is dir or lies inside it.
func inside(path, dir string) bool {
	return strings.HasPrefix(strings.TrimSuffix(path, "/")+"/", strings.TrimSuffix(dir, "/")+"/")
}

func (c *checker) dataVolumes(r *v1alpha1.AirflowRelease) {
	s := r.Storage
	names := map[string]bool{}
	paths := map[string]string{}
	for i, v := range s.Volumes {
		path := fmt.Sprintf("storage.volumes[%d]", i)
		c.itemName(path, "volume", v.Name, 40, names)
		sources := map[string]bool{"nfs": v.NFS != nil, "csi": v.CSI != nil, "existingClaim": v.ExistingClaim != ""}
		if !sources["nfs"] && !sources["csi"] && !sources["existingClaim"] {
			c.errorf(path, "give one source: nfs, csi or existingClaim")
		}
		c.oneSource(path, sources)
		c.nfs(path+".nfs", v.NFS)
		c.csi(path+".csi", v.CSI)
		c.claimName(path+".existingClaim", v.ExistingClaim)
		if _, err := resource.ParseQuantity(v.Size); err != nil {
			c.errorf(path+".size", "%q is not a quantity like 10Gi", v.Size)
		}
		mp := v.MountPath
		switch {
		case !strings.HasPrefix(mp, "/") || strings.HasPrefix(mp, "/opt/airkube"):
			c.errorf(path+".mountPath", "%q must be an absolute path outside /opt/airkube", mp)
		case pathpkg.Clean(mp) == "/tmp":
			c.errorf(path+".mountPath", "%q is every Airflow container's writable emptyDir (the root is read-only); mount data volumes elsewhere, e.g. /data/%s", mp, v.Name)
		case nested(mp, s.DAGs.MountPath):
			c.errorf(path+".mountPath", "%q overlaps the DAGs at %s; mount data volumes elsewhere", mp, s.DAGs.MountPath)
		case nested(mp, s.Logs.MountPath):
			c.errorf(path+".mountPath", "%q overlaps the logs at %s; mount data volumes elsewhere", mp, s.Logs.MountPath)
		case paths[mp] != "":
			c.errorf(path+".mountPath", "%q is also volume %s's mountPath; give each volume its own", mp, paths[mp])
		}
		if paths[mp] == "" {
			paths[mp] = v.Name
		}
	}
	known := make([]string, 0, len(names))
	for n := range names {
		known = append(known, n)
	}
	sort.Strings(known)
	for _, comp := range r.Components.Fields() {
		c.volumeNames("components."+comp.Field+".volumes", comp.Volumes, names, known)
	}
	for i, g := range r.TaskGroups {
		c.volumeNames(fmt.Sprintf("taskGroups[%d].volumes", i), g.Volumes, names, known)
	}
}

// volumeNames checks a pod's list of data volumes: each one of storage.volumes
// (names; known, sorted, for the message) and listed once.
func (c *checker) volumeNames(path string, list []string, names map[string]bool, known []string) {
	seen := map[string]bool{}
	for j, name := range list {
		p := fmt.Sprintf("%s[%d]", path, j)
		switch {
		case !names[name] && len(known) == 0:
			c.errorf(p, "%q is not a volume: define it in storage.volumes first", name)
		case !names[name]:
			c.errorf(p, "%q is not one of storage.volumes (%s)", name, strings.Join(known, ", "))
		case seen[name]:
			c.errorf(p, "%q is listed twice", name)
		}
		seen[name] = true
	}
}

// remoteLogProviders names the provider package each remote log scheme's handler lives in.
var remoteLogProviders = map[string]string{
	"s3":         "apache-airflow-providers-amazon",
	"gs":         "apache-airflow-providers-google",
	"wasb":       "apache-airflow-providers-microsoft-azure",
	"oss":        "apache-airflow-providers-alibaba",
	"hdfs":       "apache-airflow-providers-apache-hdfs",
	"cloudwatch": "apache-airflow-providers-amazon",
}

func (c *checker) storage(r *v1alpha1.AirflowRelease, major uint64) {
	s := &r.Storage
	d := s.DAGs
	c.oneSource("storage.dags", map[string]bool{"nfs": d.NFS != nil, "csi": d.CSI != nil, "existingClaim": d.ExistingClaim != "", "gitSync": d.GitSync != nil, "git": d.Git != nil, "image": d.Image != nil})
	c.nfs("storage.dags.nfs", d.NFS)
	c.csi("storage.dags.csi", d.CSI)
	if g := d.GitSync; g != nil && g.Repo == "" {
		c.errorf("storage.dags.gitSync.repo", "required: the git repository URL")
	}
	if g := d.GitSync; g != nil && g.Image != "" {
		c.image("storage.dags.gitSync.image", g.Image)
	}
	if d.Git != nil {
		c.gitDAGs(r, major)
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
		} else if pathpkg.Clean(p) == "/tmp" {
			c.errorf(path, "%q is every Airflow container's writable emptyDir (the root is read-only); choose another folder", p)
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

// gitRepo is a repository URL git and the git provider's hook accept: a URL of a transport git
// speaks, or scp-like user@host:path.
var gitRepo = regexp.MustCompile(`^((https?|ssh|git)://[^/\s]+/\S*|[A-Za-z0-9._-]+@[A-Za-z0-9.-]+:\S+)$`)

// repoPassword says whether a repository URL carries a password (https://user:token@host/...).
func repoPassword(repo string) bool {
	u, err := url.Parse(repo)
	if err != nil || u.User == nil {
		return false
	}
	_, has := u.User.Password()
	return has
}

// bundleName is what a DAG bundle's name may be: it is stored with each DAG (at most 250 characters)
// and names the bundle's folder in each pod.
var bundleName = regexp.MustCompile(`^[A-Za-z0-9_.-]{1,200}$`)

func (c *checker) gitDAGs(r *v1alpha1.AirflowRelease, major uint64) {
	g := r.Storage.DAGs.Git
	const field = "storage.dags.git"
	if major == 2 {
		c.errorf(field, "DAG bundles are Airflow 3's; on 2.x use storage.dags.gitSync")
	}
	switch {
	case g.Repo == "":
		c.errorf(field+".repo", "required: the repository URL, like https://git.example.com/weather/dags.git or git@git.example.com:weather/dags.git")
	case !gitRepo.MatchString(g.Repo):
		c.errorf(field+".repo", "%q is not a repository URL: use https://, http://, ssh://, git:// or user@host:path", g.Repo)
	case repoPassword(g.Repo):
		c.errorf(field+".repo", "holds a password; give the credentials as a git connection (connId) from a Secret instead")
	}
	if strings.HasPrefix(g.Ref, "-") || strings.ContainsAny(g.Ref, " ~^:?*[\\") || strings.Contains(g.Ref, "..") {
		c.errorf(field+".ref", "%q is not a branch or tag name", g.Ref)
	}
	if strings.HasPrefix(g.SubPath, "/") || slices.Contains(strings.Split(g.SubPath, "/"), "..") {
		c.errorf(field+".subPath", "%q must be a folder inside the repository, like dags", g.SubPath)
	}
	if g.RefreshInterval != "" {
		if d, err := time.ParseDuration(g.RefreshInterval); err != nil || d < time.Second || d%time.Second != 0 {
			c.errorf(field+".refreshInterval", "%q is not a duration of whole seconds, at least 1s, like 30s or 5m", g.RefreshInterval)
		}
	}
	if !bundleName.MatchString(g.Name) {
		c.errorf(field+".name", "%q is not a bundle name: letters, digits, '.', '_' and '-', at most 200", g.Name)
	}
	if g.ConnID != "" {
		listed := slices.ContainsFunc(r.Airflow.Connections, func(cn v1alpha1.Connection) bool { return cn.ID == g.ConnID })
		if !envKey.MatchString(g.ConnID) {
			c.errorf(field+".connId", "%q is not a connection id (letters, digits and '_')", g.ConnID)
		} else if !listed && r.Airflow.SecretsBackend == nil {
			c.warnf(field+".connId", "%q is not in airflow.connections: the dag-processor, workers and task pods find it only if it is in the database; list it there with its Secret", g.ConnID)
		}
	}
	c.warnf(field, "needs apache-airflow-providers-git and the git command in airflow.image and every task group's image (apache/airflow's image has both)")
}
