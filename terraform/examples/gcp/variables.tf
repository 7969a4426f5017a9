variable "project_id" {
  type        = string
  description = "Google Cloud project of the GKE cluster."
}

variable "region" {
  type        = string
  description = "Region of the GKE cluster and the bucket."
  default     = "us-central1"
}

variable "gke_cluster_name" {
  type        = string
  description = "Name of the existing GKE cluster (Workload Identity enabled)."
}

variable "name" {
  type        = string
  description = "Name of this Strata cluster."
  default     = "demo"
}
