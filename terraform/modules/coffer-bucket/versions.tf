terraform {
  # Lifecycle preconditions need 1.2; 1.5 is the oldest release this module supports. The provider's
  # blocked_encryption_types appeared in 6.22 and is optional and computed (no perpetual diff) from 6.40.
  required_version = ">= 1.5.0, < 2.0.0"

  required_providers {
    aws = {
      source  = "hashicorp/aws"
      version = "~> 6.40"
    }
  }
}
