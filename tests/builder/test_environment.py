"""Plain-language reasons why no GPU is used."""

from builder.environment import explain_missing_gpu


def test_cpu_build_with_driver_says_install_gpu_build():
    text = explain_missing_gpu(built_with_cuda=False, tensorflow_package="tensorflow-cpu", nvidia_smi=True,
                               system="Linux")
    assert "cellwright[gpu]" in text


def test_no_driver_says_so():
    text = explain_missing_gpu(built_with_cuda=True, tensorflow_package="tensorflow", nvidia_smi=False,
                               system="Linux")
    assert "driver" in text and "CPU" in text


def test_macos_explained():
    assert "macOS" in explain_missing_gpu(built_with_cuda=False, tensorflow_package="tensorflow",
                                          nvidia_smi=False, system="Darwin")


def test_visible_devices_hint():
    text = explain_missing_gpu(built_with_cuda=True, tensorflow_package="tensorflow", nvidia_smi=True,
                               system="Linux")
    assert "CUDA_VISIBLE_DEVICES" in text
