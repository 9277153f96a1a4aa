"""Jobs that tie the engine together: training (``train_job``), evaluation (``evaluate_job``), prediction
(``predict_job``) and the shared whole-image inference (``inference``). Importing this package is cheap; each
module imports TensorFlow/Keras only inside the functions that need them.
"""
