"""Self-supervised pre-training of an encoder on unlabelled images (``cellwright pretrain``)."""
