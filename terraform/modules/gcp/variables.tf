variable "project_id" {
  type        = string
  description = "Google Cloud project holding the bucket, the service account and the GKE cluster."
  validation {
    condition     = can(regex("^[a-z][a-z0-9-]{4,28}[a-z0-9]$", var.project_id))
    error_message = "project_id must be a Google Cloud project id."
  }
}

variable "name" {
  type        = string
  description = "Name of this Strata cluster: prefixes the service account and, unless bucket_name is set, the bucket."
  validation {
    condition     = can(regex("^[a-z][a-z0-9-]{1,14}[a-z0-9]$", var.name))
    error_message = "name must be 3-16 lower-case letters, digits or dashes, starting with a letter (it prefixes a service account id)."
  }
}

variable "bucket_name" {
  type        = string
  description = "GCS bucket for sealed log segments. Empty: <project_id>-<name>-strata."
  default     = ""
  validation {
    condition     = var.bucket_name == "" || can(regex("^[a-z0-9][a-z0-9._-]{1,61}[a-z0-9]$", var.bucket_name))
    error_message = "bucket_name must be a valid GCS bucket name."
  }
}

variable "location" {
  type        = string
  description = "Bucket location: a region next to the GKE cluster (e.g. us-central1) or a multi-region."
  validation {
    condition     = length(var.location) > 0
    error_message = "location must not be empty."
  }
}

variable "object_prefix" {
  type        = string
  description = "Object name prefix inside the bucket for this cluster's objects."
  default     = "strata"
  validation {
    condition     = can(regex("^[A-Za-z0-9._-]+(/[A-Za-z0-9._-]+)*$", var.object_prefix))
    error_message = "object_prefix must be a relative prefix without leading or trailing slashes."
  }
}

variable "kms_key_name" {
  type        = string
  description = "Cloud KMS key (projects/.../cryptoKeys/...) for CMEK bucket encryption. Null: Google-managed keys."
  default     = null
  validation {
    condition     = var.kms_key_name == null || can(regex("^projects/[^/]+/locations/[^/]+/keyRings/[^/]+/cryptoKeys/[^/]+$", var.kms_key_name))
    error_message = "kms_key_name must be a full Cloud KMS crypto key name."
  }
}

variable "abort_incomplete_multipart_upload_days" {
  type        = number
  description = "Days after which incomplete multipart uploads are aborted."
  default     = 1
  validation {
    condition     = var.abort_incomplete_multipart_upload_days >= 1
    error_message = "abort_incomplete_multipart_upload_days must be at least 1."
  }
}

variable "force_destroy" {
  type        = bool
  description = "Allow terraform destroy to delete a bucket that still holds data. Keep false in production."
  default     = false
}

variable "namespace" {
  type        = string
  description = "Kubernetes namespace of the Helm release (created if missing)."
  default     = "strata"
  validation {
    condition     = can(regex("^[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?$", var.namespace))
    error_message = "namespace must be a DNS label."
  }
}

variable "release_name" {
  type        = string
  description = "Helm release name."
  default     = "strata"
  validation {
    condition     = can(regex("^[a-z0-9]([-a-z0-9]{0,51}[a-z0-9])?$", var.release_name))
    error_message = "release_name must be a DNS label of at most 53 characters."
  }
}

variable "chart" {
  type        = string
  description = "Helm chart: a chart name in chart_repository or a local path. Empty: this repository's charts/strata."
  default     = ""
}

variable "chart_repository" {
  type        = string
  description = "Helm repository URL holding chart; null when chart is a local path."
  default     = null
}

variable "chart_version" {
  type        = string
  description = "Chart version to install from chart_repository; null for a local chart."
  default     = null
}

variable "replicas" {
  type        = number
  description = "Number of brokers; spread over the cluster's zones."
  default     = 3
  validation {
    condition     = var.replicas >= 1 && floor(var.replicas) == var.replicas
    error_message = "replicas must be a positive whole number."
  }
}

variable "image_repository" {
  type        = string
  description = "Container image repository of strata."
  default     = "ghcr.io/strata-io/strata"
}

variable "image_tag" {
  type        = string
  description = "Container image tag; empty means the chart's appVersion."
  default     = ""
}

variable "helm_values" {
  type        = list(string)
  description = "Extra Helm values documents (YAML), applied after the module's own."
  default     = []
}

variable "labels" {
  type        = map(string)
  description = "Labels added to the bucket."
  default     = {}
}
