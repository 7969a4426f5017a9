output "bootstrap_address" {
  description = "Kafka bootstrap address for clients inside the GKE cluster."
  value       = module.strata.bootstrap_address
}

output "bucket_name" {
  description = "GCS bucket holding sealed segments."
  value       = module.strata.bucket_name
}

output "service_account_email" {
  description = "Google service account the brokers act as."
  value       = module.strata.service_account_email
}
