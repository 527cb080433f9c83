"""Talking to MLflow: the cached client and its error mapping, the fast SQL search over
MLflow's tables, and the tag keys our runs carry."""
