package model

import (
	_ "embed"
	"encoding/json"
	"fmt"
	"sort"
	"strings"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/resource"

	"github.com/airkube/airkube/generator/apis/v1alpha1"
)

// Paths of the login setup inside the api-server (3.x) and webserver (2.x) pods.
const (
	AuthDir            = "/opt/airkube/auth"
	PasswordsFile      = AuthDir + "/passwords.json"
	UsersScript        = PythonDir + "/airkube_users.py"
	PreflightScript    = PythonDir + "/airkube_preflight.py"
	WebserverConfigDir = "/opt/airkube/webserver"
	// FABAuthManager is core.auth_manager for auth.manager fab on Airflow 3.
	FABAuthManager = "airflow.providers.fab.auth_manager.fab_auth_manager.FabAuthManager"
)

//go:embed python/airkube_preflight.py
var preflightScript string

//go:embed python/airkube_users.py
var usersScript string

// UsersJob creates and updates the FAB users (auth.manager fab). The chart appends to its name a hash of
// its pod spec and of the resourceVersions of SecretVersions: a changed password Secret is a new
// Job at the next upgrade, which sets the new password.
type UsersJob struct {
	JobPod
	SecretVersions []string `json:"secretVersions"`
}

// scriptUser is one entry of airkube_users.py's USERS argument: no password, only the env
// variable that holds it.
type scriptUser struct {
	Username    string `json:"username"`
	Role        string `json:"role"`
	Email       string `json:"email,omitempty"`
	PasswordEnv string `json:"passwordEnv"`
}

// users is airkube_users.py's USERS argument, the password env of each user, and the Secrets
// holding them (sorted, each once).
func (r *release) users() (string, []corev1.EnvVar, []string) {
	var list []scriptUser
	var env []corev1.EnvVar
	secrets := map[string]bool{}
	for i, u := range r.Auth.Users {
		name := fmt.Sprintf("AIRKUBE_USER_PASSWORD_%d", i)
		su := scriptUser{Username: u.Username, Role: u.Role, PasswordEnv: name}
		if r.Auth.Manager == v1alpha1.AuthFAB {
			su.Email = u.Email
			if su.Email == "" {
				su.Email = u.Username + "@localhost"
			}
		}
		list = append(list, su)
		env = append(env, secretEnv(name, u.PasswordSecret.Name, u.PasswordSecret.Key))
		secrets[u.PasswordSecret.Name] = true
	}
	data, _ := json.Marshal(list)
	names := make([]string, 0, len(secrets))
	for s := range secrets {
		names = append(names, s)
	}
	sort.Strings(names)
	return string(data), env, names
}

// simpleAuth gives the 3.x api-server its users: simple_auth_manager_users in its env and the
// passwords file, written from the Secrets by an init container into a memory volume before
// Airflow starts. Every replica and every restart has the same passwords, and none is in a
// ConfigMap. Without users the api-server keeps Airflow's default (a random admin password).
func (r *release) simpleAuth(api *Workload) {
	if r.Auth.InsecureEveryoneIsAdmin {
		api.Env = append(api.Env, corev1.EnvVar{Name: "AIRFLOW__CORE__SIMPLE_AUTH_MANAGER_ALL_ADMINS", Value: "True"})
		return
	}
	if !r.simpleAuthPasswordsFile() {
		return
	}
	usersArg, passwordEnv, secrets := r.users()
	var pairs []string
	for _, u := range r.Auth.Users {
		pairs = append(pairs, u.Username+":"+strings.ToLower(u.Role))
	}
	// The passwords file's path is in airflow.cfg (simpleAuthPasswordsFile): an environment variable with
	// PASSWORDS in its name that holds no password is what secret scanners flag.
	api.Env = append(api.Env, corev1.EnvVar{Name: "AIRFLOW__CORE__SIMPLE_AUTH_MANAGER_USERS", Value: strings.Join(pairs, ",")})
	api.Volumes = append(api.Volumes, corev1.Volume{Name: "auth", VolumeSource: corev1.VolumeSource{
		EmptyDir: &corev1.EmptyDirVolumeSource{Medium: corev1.StorageMediumMemory, SizeLimit: ptr(resource.MustParse("1Mi"))}}})
	mount := corev1.VolumeMount{Name: "auth", MountPath: AuthDir}
	api.VolumeMounts = append(api.VolumeMounts, mount)
	api.InitContainers = append(api.InitContainers, corev1.Container{
		Name: "auth-passwords", Image: r.Airflow.Image,
		Args:         []string{"python", UsersScript, "simple", PasswordsFile, usersArg},
		Env:          passwordEnv,
		Resources:    resources("50m", "64Mi", "256Mi"),
		VolumeMounts: []corev1.VolumeMount{{Name: "python", MountPath: PythonDir, ReadOnly: true}, mount},
	})
	api.SecretVersions = secrets
}

// simpleAuthPasswordsFile is true when the api-server reads its users' passwords from PasswordsFile.
func (r *release) simpleAuthPasswordsFile() bool {
	return r.Auth.Manager == v1alpha1.AuthSimple && len(r.Auth.Users) > 0 && !r.Auth.InsecureEveryoneIsAdmin
}

// fabAuth gives the webserver (2.x) or api-server (3.x) its webserver_config.py, if any, and returns
// the Job that creates and updates the FAB users, or nil without users. FAB's tables are migrated by
// `airflow db migrate`: on 3.x through the auth manager's own database manager, which core.auth_manager
// in airflow.cfg names to the migration Job too.
func (r *release) fabAuth(web *Workload, config corev1.Volume) *UsersJob {
	var wsEnv []corev1.EnvVar
	var wsVolumes []corev1.Volume
	var wsMounts []corev1.VolumeMount
	if w := r.Auth.WebserverConfig; w != nil {
		key := "AIRFLOW__WEBSERVER__CONFIG_FILE"
		if r.major == 3 {
			key = "AIRFLOW__FAB__CONFIG_FILE"
		}
		wsEnv = []corev1.EnvVar{{Name: key, Value: WebserverConfigDir + "/webserver_config.py"}}
		wsVolumes = []corev1.Volume{{Name: "webserver-config", VolumeSource: corev1.VolumeSource{ConfigMap: &corev1.ConfigMapVolumeSource{
			LocalObjectReference: corev1.LocalObjectReference{Name: w.Name},
			Items:                []corev1.KeyToPath{{Key: w.Key, Path: "webserver_config.py"}}}}}}
		wsMounts = []corev1.VolumeMount{{Name: "webserver-config", MountPath: WebserverConfigDir, ReadOnly: true}}
		web.Env = append(web.Env, wsEnv...)
		web.Volumes = append(web.Volumes, wsVolumes...)
		web.VolumeMounts = append(web.VolumeMounts, wsMounts...)
	}
	if len(r.Auth.Users) == 0 {
		return nil
	}
	usersArg, passwordEnv, secrets := r.users()
	return &UsersJob{SecretVersions: secrets, JobPod: JobPod{
		Name:              r.name("users-" + hash8(r.Airflow.Version, r.Airflow.Image, usersArg, usersScript)),
		Image:             r.Airflow.Image,
		Args:              []string{"python", UsersScript, "fab", usersArg},
		Resources:         resources("100m", "512Mi", "1Gi"),
		AirflowEnv:        true,
		WaitForMigrations: true,
		Env:               append(passwordEnv, wsEnv...),
		Volumes: append([]corev1.Volume{config, {Name: "python", VolumeSource: corev1.VolumeSource{ConfigMap: &corev1.ConfigMapVolumeSource{
			LocalObjectReference: corev1.LocalObjectReference{Name: r.name("python")}}}}}, wsVolumes...),
		VolumeMounts: append([]corev1.VolumeMount{{Name: config.Name, MountPath: ConfigDir, ReadOnly: true},
			{Name: "python", MountPath: PythonDir, ReadOnly: true}}, wsMounts...),
	}}
}

// logins tells NOTES.txt who can log in and where each password is.
func (r *release) logins() Logins {
	l := Logins{EveryoneIsAdmin: r.Auth.InsecureEveryoneIsAdmin}
	for _, u := range r.Auth.Users {
		l.Users = append(l.Users, Login{Username: u.Username, Role: u.Role, Secret: u.PasswordSecret.Name, Key: u.PasswordSecret.Key})
	}
	return l
}
