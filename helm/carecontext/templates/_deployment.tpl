{{/*
One Deployment per component (api, worker): same image, hardening, secrets and
volumes; different subcommand, size, probes and scaling. Call with
(dict "ctx" $ "component" "api" "spec" .Values.api "adminKey" true).
*/}}
{{- define "carecontext.deployment" -}}
{{- $ctx := .ctx }}
{{- $spec := .spec }}
apiVersion: apps/v1
kind: Deployment
metadata:
  name: {{ include "carecontext.fullname" $ctx }}-{{ .component }}
  labels:
    {{- include "carecontext.labels" $ctx | nindent 4 }}
    app.kubernetes.io/component: {{ .component }}
spec:
  {{- if not $spec.autoscaling.enabled }}
  {{- /* With an HPA the replica count is its business: an upgrade must not reset it. */}}
  replicas: {{ $spec.replicaCount }}
  {{- end }}
  revisionHistoryLimit: 5
  strategy:
    type: RollingUpdate
    rollingUpdate:
      maxUnavailable: 0
      maxSurge: 1
  selector:
    matchLabels:
      {{- include "carecontext.selectorLabels" $ctx | nindent 6 }}
      app.kubernetes.io/component: {{ .component }}
  template:
    metadata:
      labels:
        {{- include "carecontext.selectorLabels" $ctx | nindent 8 }}
        app.kubernetes.io/component: {{ .component }}
        {{- with $spec.podLabels }}
        {{- toYaml . | nindent 8 }}
        {{- end }}
      annotations:
        {{- if $ctx.Values.metrics.scrapeAnnotations }}
        prometheus.io/scrape: "true"
        prometheus.io/path: /metrics
        prometheus.io/port: {{ $ctx.Values.config.port | quote }}
        {{- if $ctx.Values.serverTls.enabled }}
        prometheus.io/scheme: https
        {{- end }}
        {{- end }}
        {{- with $spec.podAnnotations }}
        {{- toYaml . | nindent 8 }}
        {{- end }}
    spec:
      serviceAccountName: {{ include "carecontext.serviceAccountName" $ctx }}
      # The app never calls the Kubernetes API: no token in the pod.
      automountServiceAccountToken: false
      enableServiceLinks: false
      {{- with $ctx.Values.imagePullSecrets }}
      imagePullSecrets:
        {{- toYaml . | nindent 8 }}
      {{- end }}
      securityContext:
        {{- include "carecontext.podSecurityContext" $ctx | nindent 8 }}
      terminationGracePeriodSeconds: {{ $ctx.Values.terminationGracePeriodSeconds }}
      containers:
        - name: {{ .component }}
          image: {{ include "carecontext.image" $ctx | quote }}
          imagePullPolicy: {{ $ctx.Values.image.pullPolicy }}
          args:
            {{- toYaml $spec.args | nindent 12 }}
          ports:
            - name: http
              containerPort: {{ $ctx.Values.config.port }}
              protocol: TCP
          env:
            {{- include "carecontext.env" (dict "ctx" $ctx "adminKey" .adminKey "keys" true) | nindent 12 }}
            {{- with .extraEnv }}
            {{- toYaml . | nindent 12 }}
            {{- end }}
          {{- with $spec.startupProbe }}
          startupProbe:
            {{- include "carecontext.probe" (dict "ctx" $ctx "probe" .) | nindent 12 }}
          {{- end }}
          {{- with $spec.livenessProbe }}
          livenessProbe:
            {{- include "carecontext.probe" (dict "ctx" $ctx "probe" .) | nindent 12 }}
          {{- end }}
          {{- with $spec.readinessProbe }}
          readinessProbe:
            {{- include "carecontext.probe" (dict "ctx" $ctx "probe" .) | nindent 12 }}
          {{- end }}
          resources:
            {{- toYaml $spec.resources | nindent 12 }}
          securityContext:
            {{- include "carecontext.containerSecurityContext" $ctx | nindent 12 }}
          volumeMounts:
            {{- include "carecontext.volumeMounts" (dict "ctx" $ctx "keys" true) | nindent 12 }}
      volumes:
        {{- include "carecontext.volumes" (dict "ctx" $ctx "keys" true) | nindent 8 }}
      {{- include "carecontext.scheduling" (dict "ctx" $ctx "component" .component) | nindent 6 }}
{{- end }}
