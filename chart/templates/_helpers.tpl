{{/* Labels of every object; .root is the top context, .component and .group optional. */}}
{{- define "airkube.labels" -}}
{{ include "airkube.selector" . }}
app.kubernetes.io/managed-by: Helm
app.kubernetes.io/version: {{ .root.Values.release.airflowVersion | quote }}
helm.sh/chart: {{ printf "%s-%s" .root.Chart.Name .root.Chart.Version }}
{{- with .root.Values.labels }}
{{ toYaml . }}
{{- end }}
{{- end }}

{{/* Selector labels: stable for the life of a workload (selectors are immutable). */}}
{{- define "airkube.selector" -}}
app.kubernetes.io/name: airflow
app.kubernetes.io/instance: {{ .root.Values.release.name }}
{{- with .component }}
app.kubernetes.io/component: {{ . }}
{{- end }}
{{- with .group }}
airkube.dev/task-group: {{ . }}
{{- end }}
{{- end }}

{{/* Refuses a release name or namespace other than the one the values were made for. */}}
{{- define "airkube.guard" -}}
{{- $r := .Values.release -}}
{{- if ne .Release.Name $r.name -}}
{{- fail (printf "these values were rendered by airkube for release %q: install with `helm upgrade --install %s <chart> --namespace %s`" $r.name $r.name $r.namespace) -}}
{{- end -}}
{{- if ne .Release.Namespace $r.namespace -}}
{{- fail (printf "these values were rendered by airkube for namespace %q, not %q: add --namespace %s" $r.namespace .Release.Namespace $r.namespace) -}}
{{- end -}}
{{- /* A downgrade to an older Airflow minor would run it on a database it cannot read: refuse it
before anything changes. The version the database is migrated to is that of the newest migration Job
of the release that completed (a refused or failed one migrated nothing). Without lookup, as under
Argo CD, the migration Job's preflight refuses it. */ -}}
{{- $was := "" -}}
{{- range (dig "items" list (lookup "batch/v1" "Job" .Release.Namespace "")) -}}
{{- $l := .metadata.labels | default dict -}}
{{- if and (eq (get $l "app.kubernetes.io/instance") $r.name) (eq (get $l "app.kubernetes.io/component") "migrate") (gt (int (dig "status" "succeeded" 0 .)) 0) -}}
{{- $v := get $l "app.kubernetes.io/version" -}}
{{- if and $v (or (not $was) (semverCompare (printf ">%s" $was) $v)) }}{{ $was = $v }}{{ end -}}
{{- end -}}
{{- end -}}
{{- if $was -}}
{{- $v := semver $was -}}
{{- if semverCompare (printf "<%d.%d.0-0" $v.Major $v.Minor) $r.airflowVersion -}}
{{- fail (printf "refused: this release's database is migrated to Airflow %s; running %s on it is a downgrade. Nothing was changed. To go back, back the database up, run `airflow db downgrade --to-version %s` with Airflow %s, then upgrade the release to %s." $was $r.airflowVersion $r.airflowVersion $was $r.airflowVersion) -}}
{{- end -}}
{{- end -}}
{{- end }}

{{/*
The Airflow pods' shared blocks (env, mounts, volumes, contexts) as YAML: made once per template file
and handed down as .y, since toYaml is most of a render's time and these repeat in every pod.
*/}}
{{- define "airkube.sharedYAML" -}}
{{- $a := .Values.airflow -}}
{{- dict "env" (toYaml $a.env) "volumeMounts" (toYaml $a.volumeMounts) "volumes" (toYaml $a.volumes) "securityContext" (toYaml $a.securityContext) "podSecurityContext" (toYaml $a.podSecurityContext) | toJson -}}
{{- end }}

{{/* An Airflow container: shared env and mounts (.y), then the workload's own. */}}
{{- define "airkube.container" -}}
{{- $a := .root.Values.airflow -}}
{{- $w := .w -}}
- name: {{ .name }}
  image: {{ $w.image }}
  imagePullPolicy: {{ $a.imagePullPolicy }}
  {{- with .args }}
  args: {{ toJson . }}
  {{- end }}
  env:{{ .y.env | nindent 4 }}{{ with $w.env }}{{ toYaml . | nindent 4 }}{{ end }}
  {{- with $w.envFrom }}
  envFrom:{{ toYaml . | nindent 4 }}
  {{- end }}
  {{- if .main }}
  {{- with $w.ports }}
  ports:{{ toYaml . | nindent 4 }}
  {{- end }}
  {{- range $p := list "startupProbe" "livenessProbe" "readinessProbe" }}
  {{- with index $w $p }}
  {{ $p }}:{{ toYaml . | nindent 4 }}
  {{- end }}
  {{- end }}
  {{- end }}
  resources:{{ toYaml $w.resources | nindent 4 }}
  securityContext:{{ .y.securityContext | nindent 4 }}
  volumeMounts:{{ .y.volumeMounts | nindent 4 }}{{ with $w.volumeMounts }}{{ toYaml . | nindent 4 }}{{ end }}
{{- end }}

{{/*
Helper containers of the Airflow pods (git-sync, the spec's), with the restricted context, to which a
container's own context adds. merge writes into its first map: the context is a copy, or a sidecar's
uid would become every later container's.
*/}}
{{- define "airkube.sidecars" -}}
{{- $a := .root.Values.airflow -}}
{{- range $c := .containers }}
- {{ toYaml (merge (dict "securityContext" (deepCopy $a.securityContext) "imagePullPolicy" $a.imagePullPolicy) $c) | nindent 2 | trim }}
{{- end }}
{{- end }}

{{/* The pod spec of a Deployment: .w is a workload, .y the shared YAML. */}}
{{- define "airkube.podSpec" -}}
{{- $a := .root.Values.airflow -}}
{{- $w := .w -}}
{{- $y := .y -}}
serviceAccountName: {{ $w.serviceAccount }}
automountServiceAccountToken: {{ $w.automountServiceAccountToken }}
{{- if $w.airflow }}
securityContext:{{ if $w.podSecurityContext }}{{ toYaml $w.podSecurityContext | nindent 2 }}{{ else }}{{ $y.podSecurityContext | nindent 2 }}{{ end }}
{{- with $a.imagePullSecrets }}
imagePullSecrets:{{ toYaml . | nindent 2 }}
{{- end }}
{{- if or $a.initContainers $w.waitForMigrations $w.initContainers }}
initContainers:
{{- with $a.initContainers }}{{ include "airkube.sidecars" (dict "root" $.root "containers" .) | trim | nindent 2 }}{{ end }}
{{- if $w.waitForMigrations }}
{{- include "airkube.container" (dict "root" .root "y" $y "w" (omit $w "volumeMounts") "name" "wait-for-migrations" "args" (list "airflow" "db" "check-migrations" "--migration-wait-timeout=600")) | nindent 2 }}
{{- end }}
{{- with $w.initContainers }}{{ include "airkube.sidecars" (dict "root" $.root "containers" .) | trim | nindent 2 }}{{ end }}
{{- end }}
containers:
{{- include "airkube.container" (dict "root" .root "y" $y "w" $w "name" $w.component "args" $w.args "main" true) | nindent 2 }}
{{- with $w.sidecars }}{{ include "airkube.sidecars" (dict "root" $.root "containers" .) | trim | nindent 2 }}{{ end }}
{{- with $a.sidecars }}{{ include "airkube.sidecars" (dict "root" $.root "containers" .) | trim | nindent 2 }}{{ end }}
volumes:{{ $y.volumes | nindent 2 }}{{ with $w.volumes }}{{ toYaml . | nindent 2 }}{{ end }}
{{- else }}
securityContext:{{ toYaml $w.podSecurityContext | nindent 2 }}
containers:
- name: {{ $w.component }}
  image: {{ $w.image }}
  imagePullPolicy: {{ $a.imagePullPolicy }}
  args: {{ toJson $w.args }}
  {{- with $w.env }}
  env:{{ toYaml . | nindent 4 }}
  {{- end }}
  ports:{{ toYaml $w.ports | nindent 4 }}
  {{- range $p := list "startupProbe" "livenessProbe" "readinessProbe" }}
  {{- with index $w $p }}
  {{ $p }}:{{ toYaml . | nindent 4 }}
  {{- end }}
  {{- end }}
  resources:{{ toYaml $w.resources | nindent 4 }}
  securityContext:{{ toYaml $w.securityContext | nindent 4 }}
  {{- with $w.volumeMounts }}
  volumeMounts:{{ toYaml . | nindent 4 }}
  {{- end }}
{{- with $w.volumes }}
volumes:{{ toYaml . | nindent 2 }}
{{- end }}
{{- end }}
{{- with $w.terminationGracePeriodSeconds }}
terminationGracePeriodSeconds: {{ . }}
{{- end }}
{{- with $w.priorityClassName }}
priorityClassName: {{ . }}
{{- end }}
{{- with $w.topologySpreadConstraints }}
topologySpreadConstraints:{{ toYaml . | nindent 2 }}
{{- end }}
{{- with $w.nodeSelector }}
nodeSelector:{{ toYaml . | nindent 2 }}
{{- end }}
{{- with $w.tolerations }}
tolerations:{{ toYaml . | nindent 2 }}
{{- end }}
{{- with $w.affinity }}
affinity:{{ toYaml . | nindent 2 }}
{{- end }}
{{- end }}

{{/* A KubernetesExecutor pod template file: .t is a task pod, .y the shared YAML. The main container must be "base". */}}
{{- define "airkube.taskPodFile" -}}
{{- $a := .root.Values.airflow -}}
{{- $t := .t -}}
{{- $y := .y -}}
apiVersion: v1
kind: Pod
metadata:
  name: {{ .root.Values.release.name }}-task-{{ $t.group }}
  labels:{{ include "airkube.selector" (dict "root" .root "component" "task" "group" $t.group) | nindent 4 }}
    {{- with $t.podLabels }}{{ toYaml . | nindent 4 }}{{ end }}
  {{- with $t.podAnnotations }}
  annotations:{{ toYaml . | nindent 4 }}
  {{- end }}
spec:
  restartPolicy: Never
  serviceAccountName: {{ $t.serviceAccount | default $a.serviceAccount }}
  automountServiceAccountToken: false
  securityContext:{{ if $t.podSecurityContext }}{{ toYaml $t.podSecurityContext | nindent 4 }}{{ else }}{{ $y.podSecurityContext | nindent 4 }}{{ end }}
  {{- with $t.priorityClassName }}
  priorityClassName: {{ . }}
  {{- end }}
  {{- with $t.topologySpreadConstraints }}
  topologySpreadConstraints:{{ toYaml . | nindent 4 }}
  {{- end }}
  {{- with $a.imagePullSecrets }}
  imagePullSecrets:{{ toYaml . | nindent 4 }}
  {{- end }}
  {{- $inits := concat ($a.initContainers | default list) ($t.initContainers | default list) }}
  {{- with $inits }}
  initContainers:
  {{- include "airkube.sidecars" (dict "root" $.root "containers" .) | trim | nindent 2 }}
  {{- end }}
  containers:
  {{- include "airkube.container" (dict "root" .root "y" $y "w" $t "name" "base") | nindent 2 }}
  {{- with $t.sidecars }}{{ include "airkube.sidecars" (dict "root" $.root "containers" .) | trim | nindent 2 }}{{ end }}
  volumes:{{ $y.volumes | nindent 4 }}{{ with $t.volumes }}{{ toYaml . | nindent 4 }}{{ end }}
  {{- with $t.nodeSelector }}
  nodeSelector:{{ toYaml . | nindent 4 }}
  {{- end }}
  {{- with $t.tolerations }}
  tolerations:{{ toYaml . | nindent 4 }}
  {{- end }}
  {{- with $t.affinity }}
  affinity:{{ toYaml . | nindent 4 }}
  {{- end }}
{{- end }}

{{/* Pod template annotations: a hash of each ConfigMap the workload reads, and of the versions of
the user Secrets it reads at start (.secrets). */}}
{{- define "airkube.checksums" -}}
{{- range $cm := .checksums }}
checksum/{{ $cm }}: {{ index $.root.Values.configMaps $cm | toJson | sha256sum }}
{{- end }}
{{- with .secrets }}
checksum/secrets: {{ include "airkube.secretVersions" (dict "root" $.root "secrets" .) | sha256sum }}
{{- end }}
{{- end }}

{{/*
The resourceVersion of each named Secret, read from the cluster at install and upgrade (empty
offline, and under tools that render without a cluster). It changes whenever the Secret does and
carries nothing of its data, so a hash of it may sit in a pod template or a Job name.
*/}}
{{- define "airkube.secretVersions" -}}
{{- range $name := .secrets }}
{{ $name }}={{ dig "metadata" "resourceVersion" "" (lookup "v1" "Secret" $.root.Release.Namespace $name) }}
{{- end }}
{{- end }}

{{/* tidy drops the spaces indent leaves on a block's empty lines (ConfigMap files, scripts). */}}
{{- define "airkube.tidy" -}}
{{ regexReplaceAll "(?m)[ \t]+$" . "" }}
{{- end }}
