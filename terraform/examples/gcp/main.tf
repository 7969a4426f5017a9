# Strata on an existing GKE cluster: a GCS bucket, a Google service account
# bound through Workload Identity and the Helm release.
#
#   terraform init && terraform apply -var project_id=my-project -var gke_cluster_name=my-cluster

provider "google" {
  project = var.project_id
  region  = var.region
}

data "google_client_config" "this" {}

data "google_container_cluster" "this" {
  name     = var.gke_cluster_name
  location = var.region
}

provider "helm" {
  kubernetes {
    host                   = "https://${data.google_container_cluster.this.endpoint}"
    cluster_ca_certificate = base64decode(data.google_container_cluster.this.master_auth[0].cluster_ca_certificate)
    token                  = data.google_client_config.this.access_token
  }
}

module "strata" {
  source = "../../modules/gcp"

  project_id = var.project_id
  name       = var.name
  location   = var.region
  replicas   = 3
  labels = {
    app = "strata"
  }
}
