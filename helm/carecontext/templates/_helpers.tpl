{{/*
Chart name, truncated to the 63 characters a label value allows.
*/}}
{{- define "carecontext.name" -}}
{{- default .Chart.Name .Values.nameOverride | trunc 63 | trimSuffix "-" }}
{{- end }}

{{/*
Full name prefix of every resource: <release>-<chart>, or the release name
alone when it already contains the chart name.
*/}}
{{- define "carecontext.fullname" -}}
{{- if .Values.fullnameOverride }}
{{- .Values.fullnameOverride | trunc 63 | trimSuffix "-" }}
{{- else }}
{{- $name := default .Chart.Name .Values.nameOverride }}
{{- if contains $name .Release.Name }}
{{- .Release.Name | trunc 63 | trimSuffix "-" }}
{{- else }}
{{- printf "%s-%s" .Release.Name $name | trunc 63 | trimSuffix "-" }}
{{- end }}
{{- end }}
{{- end }}

{{- define "carecontext.chart" -}}
{{- printf "%s-%s" .Chart.Name .Chart.Version | replace "+" "_" | trunc 63 | trimSuffix "-" }}
{{- end }}

{{/*
Labels on every resource.
*/}}
{{- define "carecontext.labels" -}}
helm.sh/chart: {{ include "carecontext.chart" . }}
{{ include "carecontext.selectorLabels" . }}
app.kubernetes.io/version: {{ .Chart.AppVersion | quote }}
app.kubernetes.io/managed-by: {{ .Release.Service }}
app.kubernetes.io/part-of: carecontext
{{- with .Values.commonLabels }}
{{ toYaml . }}
{{- end }}
{{- end }}

{{/*
Selector labels shared by all components; add app.kubernetes.io/component to
select one of them.
*/}}
{{- define "carecontext.selectorLabels" -}}
app.kubernetes.io/name: {{ include "carecontext.name" . }}
app.kubernetes.io/instance: {{ .Release.Name }}
{{- end }}

{{- define "carecontext.serviceAccountName" -}}
{{- if .Values.serviceAccount.create }}
{{- default (include "carecontext.fullname" .) .Values.serviceAccount.name }}
{{- else }}
{{- default "default" .Values.serviceAccount.name }}
{{- end }}
{{- end }}

{{/*
Image reference: a digest pins the exact image and wins over the tag.
*/}}
{{- define "carecontext.image" -}}
{{- if .Values.image.digest }}
{{- printf "%s@%s" .Values.image.repository .Values.image.digest }}
{{- else }}
{{- printf "%s:%s" .Values.image.repository (default .Chart.AppVersion .Values.image.tag | toString) }}
{{- end }}
{{- end }}

{{/*
Secret holding DB credentials and the admin key: the operator's, or the one
this chart creates.
*/}}
{{- define "carecontext.credentialsSecretName" -}}
{{- if .Values.secrets.existingSecret }}
{{- .Values.secrets.existingSecret }}
{{- else }}
{{- printf "%s-credentials" (include "carecontext.fullname" .) }}
{{- end }}
{{- end }}

{{/*
Secret holding the KEK: kek.existingSecret, else secrets.existingSecret, else
the chart-created credentials Secret.
*/}}
{{- define "carecontext.kekSecretName" -}}
{{- if .Values.kek.existingSecret }}
{{- .Values.kek.existingSecret }}
{{- else }}
{{- include "carecontext.credentialsSecretName" . }}
{{- end }}
{{- end }}

{{/*
True ("true") when the chart must create the credentials Secret.
*/}}
{{- define "carecontext.createSecret" -}}
{{- if not .Values.secrets.existingSecret }}true{{- end }}
{{- end }}

{{/*
Refuse settings that would weaken the pod hardening.
*/}}
{{- define "carecontext.validate" -}}
{{- if eq (int .Values.securityContext.runAsUser) 0 }}
{{- fail "securityContext.runAsUser must not be 0: CareContext never runs as root" }}
{{- end }}
{{- if eq (int .Values.securityContext.runAsGroup) 0 }}
{{- fail "securityContext.runAsGroup must not be 0" }}
{{- end }}
{{- if eq (int .Values.securityContext.fsGroup) 0 }}
{{- fail "securityContext.fsGroup must not be 0: every container process joins the fsGroup, and group root may write what root's group may" }}
{{- end }}
{{- if lt (int .Values.terminationGracePeriodSeconds) (add (int .Values.config.shutdownDelaySeconds) (int .Values.config.shutdownGraceSeconds) 10 | int) }}
{{- fail "terminationGracePeriodSeconds must be at least config.shutdownDelaySeconds + config.shutdownGraceSeconds + 10: an API pod first answers for the delay while its endpoint is removed, then lets the requests in flight finish for the grace period, then seals the audit chains and closes the database, and Kubernetes kills the pod at terminationGracePeriodSeconds" }}
{{- end }}
{{- if and .Values.serverTls.enabled (not .Values.serverTls.existingSecret) }}
{{- fail "serverTls.enabled needs serverTls.existingSecret (a kubernetes.io/tls Secret)" }}
{{- end }}
{{- if and (not .Values.database.allowPlaintext) (regexMatch "(?i)[?&]sslmode=(disable|allow)(&|$)" (toString .Values.database.url)) }}
{{- fail "database.url asks for sslmode=disable or allow, a plain-text connection: patient data would cross the network in clear and the pods would refuse to start on it. Use sslmode=verify-full with the database's CA (database.ca), or set database.allowPlaintext true only where the network encrypts on its own (a service mesh with mutual TLS)" }}
{{- end }}
{{- if and .Values.networkPolicy.enabled (empty .Values.networkPolicy.database.cidrs) }}
{{- fail "networkPolicy.enabled needs networkPolicy.database.cidrs, or the pods cannot reach PostgreSQL" }}
{{- end }}
{{- if and .Values.kek.pkcs11.library (or (eq (toString .Values.kek.pkcs11.slot) "") (not .Values.kek.pkcs11.pinSecret)) }}
{{- fail "kek.pkcs11.library needs kek.pkcs11.slot (the token's slot id) and kek.pkcs11.pinSecret (a Secret holding its user PIN)" }}
{{- end }}
{{- include "carecontext.validateConnectionBudget" . }}
{{- if and (not .Values.worker.autoscaling.enabled) (eq (int .Values.worker.replicaCount) 0) (eq (int .Values.api.embeddingThreads) 0) }}
{{- fail "worker.replicaCount 0 with api.embeddingThreads 0 leaves no pod embedding resources: FHIR writes would be stored but never become searchable. Run workers, or give the API pods embedding threads" }}
{{- end }}
{{- range $component := list "api" "worker" }}
{{- $spec := index $.Values $component }}
{{- $fewest := ternary $spec.autoscaling.minReplicas $spec.replicaCount $spec.autoscaling.enabled | int }}
{{- if and $spec.pdb.enabled (not (kindIs "string" $spec.pdb.minAvailable)) (gt $fewest 0) (ge (int $spec.pdb.minAvailable) $fewest) }}
{{- fail (printf "%s.pdb.minAvailable %d leaves none of the %s's %d pod(s) to evict: every node drain would hang. Lower it below the replicas, run more replicas, or set %s.pdb.enabled false" $component (int $spec.pdb.minAvailable) $component $fewest $component) }}
{{- end }}
{{- end }}
{{- if .Values.ingress.enabled }}
{{- range .Values.ingress.hosts }}
{{- range .paths }}
{{- if or (eq (trimSuffix "/" .path) "") (hasPrefix "/metrics" .path) }}
{{- fail (printf "ingress path %q would publish /metrics, which names every tenant: route /v1, /fhir, /admin and /openapi.yml instead, and let Prometheus scrape the pods inside the cluster" .path) }}
{{- end }}
{{- end }}
{{- end }}
{{- if and (not .Values.ingress.tls) (not .Values.ingress.allowPlaintext) }}
{{- fail "ingress.enabled without ingress.tls publishes the API over plain HTTP: patient data and API keys would cross the network in clear. Set ingress.tls (a kubernetes.io/tls Secret, e.g. from cert-manager), or set ingress.allowPlaintext true only where TLS ends in front of the ingress controller (a cloud load balancer that terminates it)" }}
{{- end }}
{{- end }}
{{- end }}

{{/*
Refuse a release whose pods could together open more connections than the
database takes: at the replica bounds, plus the one new pod of each Deployment
a rolling update starts before it stops an old one (maxSurge 1, maxUnavailable
0, _deployment.tpl), each pod's pool plus its readiness connection, plus
database.reservedConnections. PostgreSQL refuses the connections past
max_connections, and the pods that get them fail readiness: an upgrade at the
bounds would hang on a new pod that never becomes ready.
*/}}
{{- define "carecontext.validateConnectionBudget" -}}
{{- $db := .Values.database }}
{{- $api := ternary .Values.api.autoscaling.maxReplicas .Values.api.replicaCount .Values.api.autoscaling.enabled | int }}
{{- $worker := ternary .Values.worker.autoscaling.maxReplicas .Values.worker.replicaCount .Values.worker.autoscaling.enabled | int }}
{{- $surge := add (ternary 1 0 (gt $api 0)) (ternary 1 0 (gt $worker 0)) }}
{{- $perPod := add1 (int $db.poolSize) }}
{{- $reserved := int $db.reservedConnections }}
{{- $need := add (mul (add $api $worker $surge) $perPod) $reserved }}
{{- if gt $need (int $db.maxConnections) }}
{{- fail (printf "database connection budget exceeded: (%d API + %d worker pods + %d started by a rolling update) x (poolSize %d + 1 for readiness) + %d reserved = %d, over database.maxConnections %d. Lower database.poolSize or the replica bounds, or raise max_connections on the server and database.maxConnections here" $api $worker $surge (int $db.poolSize) $reserved $need (int $db.maxConnections)) }}
{{- end }}
{{- end }}

{{/*
Pod-level security context shared by every pod.
*/}}
{{- define "carecontext.podSecurityContext" -}}
runAsNonRoot: true
runAsUser: {{ .Values.securityContext.runAsUser }}
runAsGroup: {{ .Values.securityContext.runAsGroup }}
fsGroup: {{ .Values.securityContext.fsGroup }}
seccompProfile:
  type: RuntimeDefault
{{- end }}

{{/*
Container-level security context shared by every container. Fixed on purpose:
a PHI workload has no reason to write its root filesystem, gain privileges or
hold any Linux capability.
*/}}
{{- define "carecontext.containerSecurityContext" -}}
runAsNonRoot: true
runAsUser: {{ .Values.securityContext.runAsUser }}
runAsGroup: {{ .Values.securityContext.runAsGroup }}
readOnlyRootFilesystem: true
allowPrivilegeEscalation: false
privileged: false
capabilities:
  drop:
    - ALL
seccompProfile:
  type: RuntimeDefault
{{- end }}

{{/*
Environment shared by every component. Credentials come only from Secrets via
secretKeyRef, never as literal values. Call with (dict "ctx" $ "adminKey" bool
"keys" bool): keys (the KEK or token PIN, the server TLS key, the scrape token)
only for the pods that serve and embed, not for the migration Job, which
needs none of them.
*/}}
{{- define "carecontext.env" -}}
{{- $ctx := .ctx }}
{{- $secret := include "carecontext.credentialsSecretName" $ctx }}
{{- $keys := $ctx.Values.secrets.keys }}
- name: CARECONTEXT_PORT
  value: {{ $ctx.Values.config.port | quote }}
- name: CARECONTEXT_HOME
  value: {{ $ctx.Values.config.homeDir | quote }}
- name: CARECONTEXT_DB_URL
  value: {{ required "database.url is required" $ctx.Values.database.url | quote }}
- name: CARECONTEXT_DB_POOL_SIZE
  value: {{ required "database.poolSize is required" $ctx.Values.database.poolSize | toString | quote }}
- name: CARECONTEXT_DB_ALLOW_PLAINTEXT
  value: {{ $ctx.Values.database.allowPlaintext | default false | toString | quote }}
{{- with $ctx.Values.config.modelHosts }}
- name: CARECONTEXT_MODEL_HOSTS
  value: {{ join "," . | quote }}
{{- end }}
{{- with $ctx.Values.config.tenantSecrets }}
- name: CARECONTEXT_TENANT_SECRETS
  value: {{ join "," . | quote }}
{{- end }}
- name: CARECONTEXT_SHUTDOWN_GRACE_SECONDS
  value: {{ $ctx.Values.config.shutdownGraceSeconds | toString | quote }}
- name: CARECONTEXT_DB_CONNECT_TIMEOUT
  value: {{ required "database.connectTimeoutSeconds is required" $ctx.Values.database.connectTimeoutSeconds | toString | quote }}
- name: CARECONTEXT_DB_USER
  valueFrom:
    secretKeyRef:
      name: {{ $secret }}
      key: {{ $keys.dbUser }}
- name: CARECONTEXT_DB_PASSWORD
  valueFrom:
    secretKeyRef:
      name: {{ $secret }}
      key: {{ $keys.dbPassword }}
- name: CARECONTEXT_DB_APP_USER
  valueFrom:
    secretKeyRef:
      name: {{ $secret }}
      key: {{ $keys.dbAppUser }}
- name: CARECONTEXT_DB_APP_PASSWORD
  valueFrom:
    secretKeyRef:
      name: {{ $secret }}
      key: {{ $keys.dbAppPassword }}
{{- if .keys }}
- name: CARECONTEXT_METRICS_TOKEN
  valueFrom:
    secretKeyRef:
      name: {{ $secret }}
      key: {{ $keys.metricsToken }}
      optional: true
{{- end }}
{{- if .adminKey }}
- name: CARECONTEXT_ADMIN_KEY
  valueFrom:
    secretKeyRef:
      name: {{ $secret }}
      key: {{ $keys.adminKey }}
{{- end }}
{{- if .keys }}
- name: CARECONTEXT_KEK_FILE
  value: {{ printf "%s/%s" $ctx.Values.kek.mountPath $ctx.Values.kek.key | quote }}
{{- if $ctx.Values.kek.previousKey }}
- name: CARECONTEXT_KEK_PREVIOUS_FILE
  value: {{ printf "%s/%s" $ctx.Values.kek.mountPath $ctx.Values.kek.previousKey | quote }}
{{- end }}
{{- with $ctx.Values.kek.pkcs11 }}
{{- if .library }}
- name: CARECONTEXT_KEK_PKCS11_LIBRARY
  value: {{ .library | quote }}
- name: CARECONTEXT_KEK_PKCS11_SLOT
  value: {{ .slot | toString | quote }}
- name: CARECONTEXT_KEK_PKCS11_PIN_FILE
  value: {{ printf "%s/%s" .pinMountPath .pinKey | quote }}
- name: CARECONTEXT_KEK_PKCS11_KEY_LABEL
  value: {{ .keyLabel | quote }}
{{- if .previousKeyLabel }}
- name: CARECONTEXT_KEK_PKCS11_PREVIOUS_KEY_LABEL
  value: {{ .previousKeyLabel | quote }}
{{- end }}
{{- end }}
{{- end }}
{{- if $ctx.Values.serverTls.enabled }}
- name: CARECONTEXT_TLS_CERT
  value: {{ printf "%s/tls.crt" $ctx.Values.serverTls.mountPath | quote }}
- name: CARECONTEXT_TLS_KEY
  value: {{ printf "%s/tls.key" $ctx.Values.serverTls.mountPath | quote }}
{{- end }}
{{- end }}
- name: JAVA_TOOL_OPTIONS
  value: {{ $ctx.Values.config.javaOpts | quote }}
{{- with $ctx.Values.config.extraEnv }}
{{ toYaml . }}
{{- end }}
{{- end }}

{{/*
Volume mounts shared by every container: the only writable paths are two
emptyDirs; the KEK (and server TLS) are read-only Secret mounts, in the pods
that serve and embed only. Call with (dict "ctx" $ "keys" bool), as the env.
*/}}
{{- define "carecontext.volumeMounts" -}}
{{- $keys := .keys }}
{{- with .ctx -}}
- name: tmp
  mountPath: /tmp
- name: home
  mountPath: {{ .Values.config.homeDir }}
{{- if $keys }}
- name: kek
  mountPath: {{ .Values.kek.mountPath }}
  readOnly: true
{{- if .Values.serverTls.enabled }}
- name: server-tls
  mountPath: {{ .Values.serverTls.mountPath }}
  readOnly: true
{{- end }}
{{- end }}
{{- if .Values.database.ca.configMap }}
- name: db-ca
  mountPath: {{ .Values.database.ca.mountPath }}
  readOnly: true
{{- end }}
{{- if and $keys .Values.kek.pkcs11.library }}
- name: kek-pin
  mountPath: {{ .Values.kek.pkcs11.pinMountPath }}
  readOnly: true
{{- end }}
{{- with .Values.config.extraVolumeMounts }}
{{ toYaml . }}
{{- end }}
{{- end }}
{{- end }}

{{- define "carecontext.volumes" -}}
{{- $keys := .keys }}
{{- with .ctx -}}
- name: tmp
  emptyDir:
    sizeLimit: {{ .Values.config.tmpSizeLimit }}
- name: home
  emptyDir:
    sizeLimit: {{ .Values.config.homeSizeLimit }}
{{- if $keys }}
- name: kek
  secret:
    secretName: {{ include "carecontext.kekSecretName" . }}
    # Group-readable only: the pod's fsGroup lets the non-root user read it.
    defaultMode: 0440
    items:
      - key: {{ .Values.kek.key }}
        path: {{ .Values.kek.key }}
      {{- if and .Values.kek.previousKey (ne .Values.kek.previousKey .Values.kek.key) }}
      {{- /* previousKey = key is the move into a PKCS#11 token: that file is mounted once */}}
      - key: {{ .Values.kek.previousKey }}
        path: {{ .Values.kek.previousKey }}
      {{- end }}
{{- if .Values.serverTls.enabled }}
- name: server-tls
  secret:
    secretName: {{ .Values.serverTls.existingSecret }}
    defaultMode: 0440
{{- end }}
{{- end }}
{{- if .Values.database.ca.configMap }}
- name: db-ca
  configMap:
    name: {{ .Values.database.ca.configMap }}
    defaultMode: 0444
    items:
      - key: {{ .Values.database.ca.key }}
        path: {{ .Values.database.ca.key }}
{{- end }}
{{- if and $keys .Values.kek.pkcs11.library }}
- name: kek-pin
  secret:
    secretName: {{ .Values.kek.pkcs11.pinSecret }}
    # Group-readable only, as the KEK: the pod's fsGroup lets the non-root user read it.
    defaultMode: 0440
    items:
      - key: {{ .Values.kek.pkcs11.pinKey }}
        path: {{ .Values.kek.pkcs11.pinKey }}
{{- end }}
{{- with .Values.config.extraVolumes }}
{{ toYaml . }}
{{- end }}
{{- end }}
{{- end }}

{{/*
Scheduling settings shared by every pod. Call with (dict "ctx" $ "component" name).
*/}}
{{- define "carecontext.scheduling" -}}
{{- $ctx := .ctx }}
{{- with $ctx.Values.nodeSelector }}
nodeSelector:
  {{- toYaml . | nindent 2 }}
{{- end }}
{{- with $ctx.Values.tolerations }}
tolerations:
  {{- toYaml . | nindent 2 }}
{{- end }}
{{- with $ctx.Values.affinity }}
affinity:
  {{- toYaml . | nindent 2 }}
{{- end }}
{{- with $ctx.Values.priorityClassName }}
priorityClassName: {{ . }}
{{- end }}
{{- if and $ctx.Values.topologySpread.enabled .component }}
topologySpreadConstraints:
  {{- range list "kubernetes.io/hostname" "topology.kubernetes.io/zone" }}
  - maxSkew: 1
    topologyKey: {{ . }}
    whenUnsatisfiable: ScheduleAnyway
    labelSelector:
      matchLabels:
        {{- include "carecontext.selectorLabels" $ctx | nindent 8 }}
        app.kubernetes.io/component: {{ $.component }}
  {{- end }}
{{- end }}
{{- end }}

{{/*
Probe scheme follows serverTls: an HTTPS server rejects plain HTTP probes.
Call with (dict "ctx" $ "probe" probeValues).
*/}}
{{- define "carecontext.probe" -}}
{{- $probe := deepCopy .probe }}
{{- if and .ctx.Values.serverTls.enabled (hasKey $probe "httpGet") }}
{{- $_ := set $probe.httpGet "scheme" "HTTPS" }}
{{- end }}
{{- toYaml $probe }}
{{- end }}
