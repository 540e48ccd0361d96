package validate

import (
	"fmt"
	"regexp"
	"slices"
	"strings"

	"github.com/airkube/airkube/generator/apis/v1alpha1"
)

// envKey is what an id must be to make a portable env name (AIRFLOW_CONN_<ID>, AIRFLOW_VAR_<KEY>).
var envKey = regexp.MustCompile(`^[A-Za-z_][A-Za-z0-9_]*$`)

func (c *checker) connections(a *v1alpha1.Airflow) {
	seen := map[string]string{}
	check := func(path, kind, id string, s v1alpha1.SecretKey) {
		env := "AIRFLOW_" + kind + "_" + strings.ToUpper(id)
		switch {
		case !envKey.MatchString(id):
			c.errorf(path, "%q cannot name an env variable (%s_...): use letters, digits and '_', not starting with a digit", id, "AIRFLOW_"+kind)
		case seen[env] != "":
			c.errorf(path, "%q is %s, as %s is already (env names are upper case)", id, env, seen[env])
		}
		seen[env] = fmt.Sprintf("%q", id)
		c.secretKey(path[:strings.LastIndex(path, ".")]+".secret", &s)
	}
	for i, conn := range a.Connections {
		check(fmt.Sprintf("airflow.connections[%d].id", i), "CONN", conn.ID, conn.Secret)
	}
	for i, v := range a.Variables {
		check(fmt.Sprintf("airflow.variables[%d].key", i), "VAR", v.Key, v.Secret)
	}
	if b := a.SecretsBackend; b != nil {
		if len(strings.Split(b.Class, ".")) < 2 || strings.ContainsAny(b.Class, " :/") {
			c.errorf("airflow.secretsBackend.class", "%q is not a class path like airflow.providers.hashicorp.secrets.vault.VaultBackend", b.Class)
		}
		if b.KwargsSecret != nil {
			c.secretKey("airflow.secretsBackend.kwargsSecret", b.KwargsSecret)
		}
	}
}

// xcomFilesystems names the provider whose object-storage filesystem serves each scheme of Airflow 3's
// XCom backend (the "filesystems" of each provider's get_provider_info: amazon 9.39.0, google 22.8.0,
// microsoft-azure 15.2.1); file:// and local:// are Airflow's own. Remote logging reaches more stores
// (remoteLogProviders): the alibaba provider has an OSS log handler but no filesystem.
var xcomFilesystems = map[string]string{
	"s3": "apache-airflow-providers-amazon", "s3a": "apache-airflow-providers-amazon", "s3n": "apache-airflow-providers-amazon",
	"gs": "apache-airflow-providers-google", "gcs": "apache-airflow-providers-google",
	"abfs": "apache-airflow-providers-microsoft-azure", "abfss": "apache-airflow-providers-microsoft-azure", "adl": "apache-airflow-providers-microsoft-azure",
}

func (c *checker) xcom(r *v1alpha1.AirflowRelease, major uint64) {
	x := r.XCom.ObjectStorage
	if x == nil {
		return
	}
	if major == 2 {
		c.errorf("xcom.objectStorage", "airkube sets the object-storage XCom backend on Airflow 3 only: the common.io provider's Airflow 2 path stores values in another format and is marked for removal; upgrade to 3.x, or keep XComs in the database")
		return
	}
	scheme, rest, found := strings.Cut(x.Path, "://")
	if !found || scheme == "" || rest == "" || strings.ContainsAny(x.Path, " \t") {
		c.errorf("xcom.objectStorage.path", "%q is not a URL like s3://aws_default@bucket/xcom or file:///data/xcom", x.Path)
	} else if scheme == "file" || scheme == "local" {
		c.xcomVolume(r, rest)
	} else if provider, ok := xcomFilesystems[scheme]; ok {
		c.warnf("xcom.objectStorage.path", "%s:// needs %s in every image that runs tasks, and apache-airflow-providers-common-io", scheme, provider)
	} else {
		c.warnf("xcom.objectStorage.path", "no Apache Airflow provider serves %s:// as object storage (Airflow's own: file://, s3://, gs://, abfs://), so the first XCom over the threshold fails unless your images have a package that registers it; for Alibaba OSS, which speaks the S3 API, use s3://<connection>@bucket/path with an aws connection whose extra endpoint_url is your OSS endpoint", scheme)
	}
	if *x.Threshold < 0 {
		c.errorf("xcom.objectStorage.threshold", "%d: give bytes, at least 0 (0 sends every XCom to the path)", *x.Threshold)
	}
	switch x.Compression {
	case "", "gzip", "bz2", "zip", "lzma", "snappy":
	default:
		c.errorf("xcom.objectStorage.compression", "%q is not one of gzip, bz2, zip, lzma, snappy", x.Compression)
	}
}

// xcomVolume checks a file:// XCom path: one task pushes where its pod runs and the next pulls where
// its own runs, so the path must be on a writable data volume that every task group mounts.
func (c *checker) xcomVolume(r *v1alpha1.AirflowRelease, dir string) {
	const field = "xcom.objectStorage.path"
	if !strings.HasPrefix(dir, "/") {
		c.errorf(field, "file://%s names a host; give a path on a shared volume, like file:///mnt/xcom", dir)
		return
	}
	var on *v1alpha1.DataVolume
	var volumes []string
	for i, v := range r.Storage.Volumes {
		volumes = append(volumes, fmt.Sprintf("%s at %s", v.Name, v.MountPath))
		if inside(dir, v.MountPath) {
			on = &r.Storage.Volumes[i]
		}
	}
	if on == nil {
		hint := "define one in storage.volumes"
		if len(volumes) > 0 {
			hint = "use one of storage.volumes (" + strings.Join(volumes, ", ") + ")"
		}
		c.errorf(field, "file://%s is on no data volume: each pod's own disk holds only its own XComs; %s and list it in every task group's volumes, or use an object store like s3://", dir, hint)
		return
	}
	if on.ReadOnly {
		c.errorf(field, "file://%s is on volume %s, which is readOnly: tasks write XComs there", dir, on.Name)
	}
	var missing []string
	for _, g := range r.TaskGroups {
		if !slices.Contains(g.Volumes, on.Name) {
			missing = append(missing, g.Name)
		}
	}
	switch len(missing) {
	case 0:
	case 1:
		c.errorf(field, "file://%s is on volume %s, which task group %s does not mount: every task may push or pull XComs; add %s to its volumes", dir, on.Name, missing[0], on.Name)
	default:
		c.errorf(field, "file://%s is on volume %s, which task groups %s do not mount: every task may push or pull XComs; add %s to their volumes", dir, on.Name, strings.Join(missing, ", "), on.Name)
	}
}
