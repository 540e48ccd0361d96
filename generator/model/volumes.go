package model

import (
	"slices"
	"sort"
	"strings"

	corev1 "k8s.io/api/core/v1"

	"github.com/airkube/airkube/generator/apis/v1alpha1"
)

// sourceHash names a volume after its source, so a changed export gets a new PersistentVolume and
// claim (both immutable where it matters) instead of a failed upgrade.
func sourceHash(nfs *v1alpha1.NFS, csi *v1alpha1.CSI, size string) string {
	if nfs != nil {
		return hash8("nfs", nfs.Server, nfs.Path, strings.Join(nfs.MountOptions, ","), size)
	}
	keys := make([]string, 0, len(csi.VolumeAttributes))
	for k, v := range csi.VolumeAttributes {
		keys = append(keys, k+"="+v)
	}
	sort.Strings(keys)
	return hash8("csi", csi.Driver, csi.VolumeHandle, strings.Join(keys, ","), strings.Join(csi.MountOptions, ","), size)
}

// dataClaim is the claim a data volume mounts: its pre-bound one, or the existing one.
func (r *release) dataClaim(v v1alpha1.DataVolume) string {
	if v.ExistingClaim != "" {
		return v.ExistingClaim
	}
	return r.name("data-" + v.Name + "-" + sourceHash(v.NFS, v.CSI, v.Size))
}

// dataStorage is the PersistentVolume and claim of each NFS or CSI data volume.
func (r *release) dataStorage() []Storage {
	var out []Storage
	for _, v := range r.Storage.Volumes {
		if v.NFS == nil && v.CSI == nil {
			continue
		}
		claim := r.dataClaim(v)
		s := Storage{Volume: r.Metadata.Namespace + "-" + claim, Claim: claim, Size: v.Size}
		if v.NFS != nil {
			s.Source.NFS = &corev1.NFSVolumeSource{Server: v.NFS.Server, Path: v.NFS.Path}
			s.MountOptions = v.NFS.MountOptions
		} else {
			s.Source.CSI = &corev1.CSIPersistentVolumeSource{Driver: v.CSI.Driver, VolumeHandle: v.CSI.VolumeHandle, VolumeAttributes: v.CSI.VolumeAttributes}
			s.MountOptions = v.CSI.MountOptions
		}
		out = append(out, s)
	}
	return out
}

// dataMounts are the volumes and mounts of the named data volumes (a task group's or a component's),
// in the list's order: the same in a group's workers and its task pods. Pod volume names are
// "data-<name>".
func (r *release) dataMounts(names []string) ([]corev1.Volume, []corev1.VolumeMount) {
	byName := map[string]v1alpha1.DataVolume{}
	for _, v := range r.Storage.Volumes {
		byName[v.Name] = v
	}
	var vols []corev1.Volume
	var mounts []corev1.VolumeMount
	for _, name := range names {
		v := byName[name]
		vols = append(vols, corev1.Volume{Name: "data-" + v.Name, VolumeSource: corev1.VolumeSource{
			PersistentVolumeClaim: &corev1.PersistentVolumeClaimVolumeSource{ClaimName: r.dataClaim(v), ReadOnly: v.ReadOnly}}})
		mounts = append(mounts, corev1.VolumeMount{Name: "data-" + v.Name, MountPath: v.MountPath, ReadOnly: v.ReadOnly})
	}
	return vols, mounts
}

// addDataMounts mounts the named data volumes in a component's pods, each once: the scheduler's list
// gathers its own and those of every group whose tasks run inside it, which may name one twice.
func (r *release) addDataMounts(w *Workload, names []string) {
	vols, mounts := r.dataMounts(names)
	for i, v := range vols {
		if !slices.ContainsFunc(w.Volumes, func(have corev1.Volume) bool { return have.Name == v.Name }) {
			w.Volumes, w.VolumeMounts = append(w.Volumes, v), append(w.VolumeMounts, mounts[i])
		}
	}
}
