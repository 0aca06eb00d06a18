"""Access control: policy documents, identities and the decisions made from them."""
