"""Language features: completion, hover and signature help from jedi and the kernel."""
