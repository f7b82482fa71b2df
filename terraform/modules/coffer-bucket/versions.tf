terraform {
  # Lifecycle preconditions need 1.2; 1.5 is the oldest release this module supports.
  required_version = ">= 1.5.0, < 2.0.0"

  required_providers {
    aws = {
      source  = "hashicorp/aws"
      version = "~> 5.0"
    }
  }
}
