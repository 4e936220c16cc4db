"""Network-element adapters: one module per dialect, all behind the NetworkElement protocol."""
