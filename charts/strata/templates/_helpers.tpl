{{/* Names, labels and the URLs handed to `strata serve`. */}}

{{- define "strata.name" -}}
{{- default .Chart.Name .Values.nameOverride | trunc 63 | trimSuffix "-" -}}
{{- end -}}

{{- define "strata.fullname" -}}
{{- if .Values.fullnameOverride -}}
{{- .Values.fullnameOverride | trunc 63 | trimSuffix "-" -}}
{{- else -}}
{{- $name := default .Chart.Name .Values.nameOverride -}}
{{- if contains $name .Release.Name -}}
{{- .Release.Name | trunc 63 | trimSuffix "-" -}}
{{- else -}}
{{- printf "%s-%s" .Release.Name $name | trunc 63 | trimSuffix "-" -}}
{{- end -}}
{{- end -}}
{{- end -}}

{{- define "strata.chart" -}}
{{- printf "%s-%s" .Chart.Name .Chart.Version | replace "+" "_" | trunc 63 | trimSuffix "-" -}}
{{- end -}}

{{- define "strata.labels" -}}
helm.sh/chart: {{ include "strata.chart" . }}
app.kubernetes.io/name: {{ include "strata.name" . }}
app.kubernetes.io/instance: {{ .Release.Name }}
app.kubernetes.io/version: {{ .Chart.AppVersion | quote }}
app.kubernetes.io/managed-by: {{ .Release.Service }}
{{- end -}}

{{- define "strata.selectorLabels" -}}
app.kubernetes.io/name: {{ include "strata.name" . }}
app.kubernetes.io/instance: {{ .Release.Name }}
app.kubernetes.io/component: broker
{{- end -}}

{{- define "strata.etcd.selectorLabels" -}}
app.kubernetes.io/name: {{ include "strata.name" . }}
app.kubernetes.io/instance: {{ .Release.Name }}
app.kubernetes.io/component: etcd
{{- end -}}

{{- define "strata.headless" -}}
{{- printf "%s-headless" (include "strata.fullname" .) | trunc 63 | trimSuffix "-" -}}
{{- end -}}

{{- define "strata.etcd.fullname" -}}
{{- printf "%s-etcd" (include "strata.fullname" .) | trunc 52 | trimSuffix "-" -}}
{{- end -}}

{{- define "strata.etcd.headless" -}}
{{- printf "%s-headless" (include "strata.etcd.fullname" .) -}}
{{- end -}}

{{- define "strata.serviceAccountName" -}}
{{- if .Values.serviceAccount.create -}}
{{- default (include "strata.fullname" .) .Values.serviceAccount.name -}}
{{- else -}}
{{- default "default" .Values.serviceAccount.name -}}
{{- end -}}
{{- end -}}

{{- define "strata.image" -}}
{{- printf "%s:%s" .Values.image.repository (default .Chart.AppVersion .Values.image.tag) -}}
{{- end -}}

{{/* The bucket: the configured one or the release's full name. */}}
{{- define "strata.bucket" -}}
{{- $t := .Values.objstore.type -}}
{{- $b := "" -}}
{{- if eq $t "s3" }}{{ $b = .Values.objstore.s3.bucket }}{{ end -}}
{{- if eq $t "gcs" }}{{ $b = .Values.objstore.gcs.bucket }}{{ end -}}
{{- if eq $t "minio" }}{{ $b = .Values.objstore.minio.bucket }}{{ end -}}
{{- default (include "strata.fullname" .) $b -}}
{{- end -}}

{{/* --objstore URL, as cmd/strata parses it. */}}
{{- define "strata.objstoreURL" -}}
{{- $o := .Values.objstore -}}
{{- $bucket := include "strata.bucket" . -}}
{{- $prefix := trimAll "/" $o.prefix -}}
{{- if eq $o.type "s3" -}}
{{- $q := list -}}
{{- if $o.s3.region }}{{ $q = append $q (printf "region=%s" $o.s3.region) }}{{ end -}}
{{- if $o.s3.endpoint }}{{ $q = append $q (printf "endpoint=%s" ($o.s3.endpoint | urlquery)) }}{{ end -}}
s3://{{ $bucket }}/{{ $prefix }}{{ if $q }}?{{ join "&" $q }}{{ end }}
{{- else if eq $o.type "gcs" -}}
gs://{{ $bucket }}/{{ $prefix }}
{{- else if eq $o.type "minio" -}}
minio://{{ $o.minio.endpoint }}/{{ $bucket }}/{{ $prefix }}?secure={{ $o.minio.secure }}
{{- end -}}
{{- end -}}

{{/* --metastore URL: etcd://host:2379,host:2379/prefix. */}}
{{- define "strata.metastoreURL" -}}
{{- $m := .Values.metastore -}}
{{- $hosts := list -}}
{{- if eq $m.mode "bundled" -}}
{{- $etcd := include "strata.etcd.fullname" . -}}
{{- $svc := include "strata.etcd.headless" . -}}
{{- range $i := until (int $m.bundled.replicas) -}}
{{- $hosts = append $hosts (printf "%s-%d.%s.%s.svc.%s:2379" $etcd $i $svc $.Release.Namespace $.Values.clusterDomain) -}}
{{- end -}}
{{- else -}}
{{- $hosts = $m.external.endpoints -}}
{{- end -}}
etcd://{{ join "," $hosts }}/{{ trimAll "/" $m.prefix }}
{{- end -}}

{{/* Kafka bootstrap address clients inside the cluster use. */}}
{{- define "strata.bootstrap" -}}
{{- printf "%s.%s.svc.%s:%d" (include "strata.fullname" .) .Release.Namespace .Values.clusterDomain (int .Values.kafka.port) -}}
{{- end -}}
