package model

import (
	"encoding/json"
	"fmt"
	"slices"
	"sort"
	"strings"
	"time"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/resource"

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

// dagsFolder is core.dags_folder: the mount, or the synced checkout inside it.
func (r *release) dagsFolder() string {
	d := r.Storage.DAGs
	if g := d.GitSync; g != nil {
		return strings.TrimSuffix(d.MountPath+"/repo/"+strings.Trim(g.SubPath, "/"), "/")
	}
	return d.MountPath
}

func (p *AirflowPods) addClaim(name, claim, path string, readOnly bool) {
	p.Volumes = append(p.Volumes, corev1.Volume{Name: name, VolumeSource: corev1.VolumeSource{
		PersistentVolumeClaim: &corev1.PersistentVolumeClaimVolumeSource{ClaimName: claim}}})
	p.VolumeMounts = append(p.VolumeMounts, corev1.VolumeMount{Name: name, MountPath: path, ReadOnly: readOnly})
}

func (r *release) gitSync(name string, once bool) corev1.Container {
	g := r.Storage.DAGs.GitSync
	c := corev1.Container{
		Name:  name,
		Image: g.Image,
		Args:  []string{"--repo=" + g.Repo, "--ref=" + g.Ref, "--root=" + r.Storage.DAGs.MountPath, "--link=repo", "--period=" + g.Period},
		Env:   []corev1.EnvVar{{Name: "HOME", Value: "/tmp"}},
		Resources: corev1.ResourceRequirements{
			Requests: corev1.ResourceList{corev1.ResourceCPU: resource.MustParse("50m"), corev1.ResourceMemory: resource.MustParse("64Mi")},
			Limits:   corev1.ResourceList{corev1.ResourceMemory: resource.MustParse("256Mi")},
		},
		VolumeMounts: []corev1.VolumeMount{{Name: "dags", MountPath: r.Storage.DAGs.MountPath}},
	}
	if once {
		c.Args = append(c.Args, "--one-time")
	} else {
		// git-sync's "/" answers 5xx until the first sync, then 200 while the process is healthy.
		c.Args = append(c.Args, fmt.Sprintf("--http-bind=:%d", GitSyncHTTPPort))
		c.Ports = []corev1.ContainerPort{{Name: "git-sync", ContainerPort: GitSyncHTTPPort}}
		c.LivenessProbe = httpProbe("/", GitSyncHTTPPort, 30, 5)
	}
	if g.CredentialsSecret != "" {
		c.EnvFrom = []corev1.EnvFromSource{{SecretRef: &corev1.SecretEnvSource{LocalObjectReference: corev1.LocalObjectReference{Name: g.CredentialsSecret}}}}
	}
	return c
}

// storageHash is the source hash of the DAG or log volume.
func (r *release) storageHash(which string) string {
	if which == "dags" {
		return sourceHash(r.Storage.DAGs.NFS, r.Storage.DAGs.CSI, r.Storage.DAGs.Size)
	}
	return sourceHash(r.Storage.Logs.NFS, r.Storage.Logs.CSI, r.Storage.Logs.Size)
}

func (r *release) storage() []Storage {
	var out []Storage
	add := func(which, size string, nfs *v1alpha1.NFS, csi *v1alpha1.CSI) {
		claim := r.name(which + "-" + r.storageHash(which))
		s := Storage{Volume: r.Metadata.Namespace + "-" + claim, Claim: claim, Size: size}
		if nfs != nil {
			s.Source.NFS = &corev1.NFSVolumeSource{Server: nfs.Server, Path: nfs.Path}
			s.MountOptions = nfs.MountOptions
		} else {
			s.Source.CSI = &corev1.CSIPersistentVolumeSource{Driver: csi.Driver, VolumeHandle: csi.VolumeHandle, VolumeAttributes: csi.VolumeAttributes}
			s.MountOptions = csi.MountOptions
		}
		out = append(out, s)
	}
	if d := r.Storage.DAGs; d.NFS != nil || d.CSI != nil {
		add("dags", d.Size, d.NFS, d.CSI)
	}
	if l := r.Storage.Logs; l.NFS != nil || l.CSI != nil {
		add("logs", l.Size, l.NFS, l.CSI)
	}
	return out
}

// GitDagBundle is the git provider's DAG bundle class (storage.dags.git).
const GitDagBundle = "airflow.providers.git.bundles.git.GitDagBundle"

// dagBundleConfig is [dag_processor] dag_bundle_config_list for storage.dags.git, empty without it.
// The refresh interval is left to [dag_processor] refresh_interval unless the spec gives one.
func (r *release) dagBundleConfig() string {
	g := r.Storage.DAGs.Git
	if g == nil {
		return ""
	}
	kwargs := map[string]any{"repo_url": g.Repo, "tracking_ref": g.Ref}
	if sub := strings.Trim(g.SubPath, "/"); sub != "" {
		kwargs["subdir"] = sub
	}
	if g.ConnID != "" {
		kwargs["git_conn_id"] = g.ConnID
	}
	if d, err := time.ParseDuration(g.RefreshInterval); err == nil && g.RefreshInterval != "" {
		kwargs["refresh_interval"] = int64(d.Seconds())
	}
	out, _ := json.Marshal([]map[string]any{{"name": g.Name, "classpath": GitDagBundle, "kwargs": kwargs}})
	return string(out)
}

// withDAGBundle gives the pods that parse DAGs or run tasks the git DAG bundle: its config from a
// ConfigMap of its own (hashed only by them, so a change to the bundle rolls the dag-processor, the
// Celery workers and a scheduler that runs tasks, and no other component; task pods read it when
// they start) and an emptyDir for their clones. The api-server and the triggerer do not read it: the
// UI's bundle links come from the database.
func (r *release) withDAGBundle(workloads []Workload, taskPods []TaskPod) {
	if r.Storage.DAGs.Git == nil {
		return
	}
	cm := r.name("dag-bundles")
	env := []corev1.EnvVar{
		{Name: "AIRFLOW__DAG_PROCESSOR__DAG_BUNDLE_CONFIG_LIST", ValueFrom: &corev1.EnvVarSource{ConfigMapKeyRef: &corev1.ConfigMapKeySelector{
			LocalObjectReference: corev1.LocalObjectReference{Name: cm}, Key: "dag_bundle_config_list"}}},
		{Name: "AIRFLOW__DAG_PROCESSOR__DAG_BUNDLE_STORAGE_PATH", Value: DAGBundleDir},
	}
	vol := corev1.Volume{Name: "dag-bundles", VolumeSource: corev1.VolumeSource{EmptyDir: &corev1.EmptyDirVolumeSource{}}}
	mount := corev1.VolumeMount{Name: "dag-bundles", MountPath: DAGBundleDir}
	runsTasks := slices.ContainsFunc(r.TaskGroups, r.RunsInScheduler)
	for i := range workloads {
		w := &workloads[i]
		if !w.Airflow || !(w.Component == "dag-processor" || w.Component == "worker" || (w.Component == "scheduler" && runsTasks)) {
			continue
		}
		w.Env = append(append([]corev1.EnvVar{}, w.Env...), env...) // w.Env may be the spec's slice
		w.Volumes, w.VolumeMounts = append(w.Volumes, vol), append(w.VolumeMounts, mount)
		w.Checksums = append(w.Checksums, cm)
	}
	for i := range taskPods {
		p := &taskPods[i]
		p.Env = append(append([]corev1.EnvVar{}, p.Env...), env...)
		p.Volumes, p.VolumeMounts = append(p.Volumes, vol), append(p.VolumeMounts, mount)
	}
}
