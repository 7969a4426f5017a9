output "bootstrap_address" {
  description = "Kafka bootstrap address for clients inside the EKS cluster."
  value       = module.strata.bootstrap_address
}

output "bucket_name" {
  description = "S3 bucket holding sealed segments."
  value       = module.strata.bucket_name
}

output "broker_role_arn" {
  description = "IAM role the brokers assume."
  value       = module.strata.broker_role_arn
}
