package validate

import (
	"fmt"
	"sort"
	"strings"

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
