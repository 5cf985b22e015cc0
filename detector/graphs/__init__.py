"""Executing exported graphs with torch: no TensorFlow and no onnxruntime at run time."""
