output "bootstrap_address" {
  description = "Kafka bootstrap address for clients inside the GKE cluster."
  value       = "${local.fullname}.${helm_release.strata.namespace}.svc.cluster.local:9092"
}

output "bucket_name" {
  description = "Name of the GCS bucket holding sealed segments."
  value       = google_storage_bucket.this.name
}

output "service_account_email" {
  description = "Google service account the brokers act as through Workload Identity."
  value       = google_service_account.broker.email
}

output "namespace" {
  description = "Kubernetes namespace of the release."
  value       = helm_release.strata.namespace
}

output "kubernetes_service_account" {
  description = "Kubernetes service account the brokers run as."
  value       = local.service_account
}
