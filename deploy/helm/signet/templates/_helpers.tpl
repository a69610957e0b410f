{{- define "signet.fullname" -}}
{{- if contains .Chart.Name .Release.Name -}}
{{- .Release.Name | trunc 63 | trimSuffix "-" -}}
{{- else -}}
{{- printf "%s-%s" .Release.Name .Chart.Name | trunc 63 | trimSuffix "-" -}}
{{- end -}}
{{- end -}}

{{- define "signet.selectorLabels" -}}
app.kubernetes.io/name: {{ .Chart.Name }}
app.kubernetes.io/instance: {{ .Release.Name }}
{{- end -}}

{{- define "signet.labels" -}}
{{ include "signet.selectorLabels" . }}
app.kubernetes.io/version: {{ .Values.image.tag | default .Chart.AppVersion | quote }}
app.kubernetes.io/managed-by: {{ .Release.Service }}
helm.sh/chart: {{ printf "%s-%s" .Chart.Name .Chart.Version | replace "+" "_" }}
{{- end -}}

{{- define "signet.secretName" -}}
{{- .Values.existingSecret | default (include "signet.fullname" .) -}}
{{- end -}}

{{/* The configuration file: the user's config with the chart's settings on top. */}}
{{- define "signet.config" -}}
{{- $chart := dict
  "issuer" (required "issuer is required: the URL clients reach Signet at" .Values.issuer)
  "listen" ":8080"
  "storage" (dict "driver" "postgres" "dsn" "${SIGNET_DB_DSN}") -}}
{{- $km := deepCopy (.Values.config.keyManagement | default dict) -}}
{{- $_ := set $km "protection" (dict "enabled" true "secrets" (list "${SIGNET_KEY_SECRET}")) -}}
{{- $_ := set $chart "keyManagement" $km -}}
{{- toYaml (merge $chart (omit .Values.config "keyManagement")) -}}
{{- end -}}
