variable "name" {
  type        = string
  description = "Name of this Strata cluster: prefixes the IAM role and, unless bucket_name is set, the bucket."
  validation {
    condition     = can(regex("^[a-z][a-z0-9-]{1,30}[a-z0-9]$", var.name))
    error_message = "name must be 3-32 lower-case letters, digits or dashes, starting with a letter."
  }
}

variable "bucket_name" {
  type        = string
  description = "S3 bucket for sealed log segments. Empty: <name>-strata-<account id>."
  default     = ""
  validation {
    condition     = var.bucket_name == "" || can(regex("^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$", var.bucket_name))
    error_message = "bucket_name must be a valid S3 bucket name (3-63 lower-case letters, digits, dots, dashes)."
  }
}

variable "object_prefix" {
  type        = string
  description = "Key prefix inside the bucket for this cluster's objects; the brokers' IAM policy is limited to it."
  default     = "strata"
  validation {
    condition     = can(regex("^[A-Za-z0-9._-]+(/[A-Za-z0-9._-]+)*$", var.object_prefix))
    error_message = "object_prefix must be a relative key prefix without leading or trailing slashes."
  }
}

variable "kms_key_arn" {
  type        = string
  description = "KMS key ARN for bucket encryption (SSE-KMS). Null: SSE-S3 (AES-256)."
  default     = null
  validation {
    condition     = var.kms_key_arn == null || can(regex("^arn:aws[a-z-]*:kms:[a-z0-9-]+:[0-9]{12}:key/.+$", var.kms_key_arn))
    error_message = "kms_key_arn must be a KMS key ARN."
  }
}

variable "abort_incomplete_multipart_upload_days" {
  type        = number
  description = "Days after which incomplete multipart uploads (from brokers that died mid-upload) are aborted."
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

variable "eks_cluster_name" {
  type        = string
  description = "Name of the existing EKS cluster the brokers run in; its IAM OIDC provider must exist (IRSA)."
  validation {
    condition     = length(var.eks_cluster_name) > 0
    error_message = "eks_cluster_name must not be empty."
  }
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

variable "tags" {
  type        = map(string)
  description = "Tags added to every AWS resource."
  default     = {}
}
