variable "region" {
  type        = string
  description = "AWS region of the EKS cluster and the bucket."
  default     = "us-east-1"
}

variable "eks_cluster_name" {
  type        = string
  description = "Name of the existing EKS cluster (with an IAM OIDC provider for IRSA)."
}

variable "name" {
  type        = string
  description = "Name of this Strata cluster."
  default     = "demo"
}

variable "kms_key_arn" {
  type        = string
  description = "Optional KMS key ARN for bucket encryption; null for SSE-S3."
  default     = null
}
