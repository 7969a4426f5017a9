output "bootstrap_address" {
  description = "Kafka bootstrap address for clients inside the EKS cluster."
  value       = "${local.fullname}.${helm_release.strata.namespace}.svc.cluster.local:9092"
}

output "bucket_name" {
  description = "Name of the S3 bucket holding sealed segments."
  value       = aws_s3_bucket.this.id
}

output "bucket_arn" {
  description = "ARN of the S3 bucket."
  value       = aws_s3_bucket.this.arn
}

output "broker_role_arn" {
  description = "ARN of the IAM role the brokers assume through IRSA."
  value       = aws_iam_role.broker.arn
}

output "namespace" {
  description = "Kubernetes namespace of the release."
  value       = helm_release.strata.namespace
}

output "service_account" {
  description = "Kubernetes service account the brokers run as (bound to the IAM role)."
  value       = local.service_account
}
