"""The run folder: everything one training run leaves behind, read and written only through :class:`RunFolder`.

:mod:`.files` names every file, :mod:`.records` types the fixed-shape ones, :mod:`.folder` reads and writes
them, :mod:`.create` makes new folders. Importing this package does not import TensorFlow.
"""

from builder.run_folder import files
from builder.run_folder.create import create_run_folder, is_run_folder, list_runs, open_run_folder
from builder.run_folder.files import RunFile
from builder.run_folder.folder import RunFolder
from builder.run_folder.records import DataInfo, NormalizationRecord, OriginRecord

__all__ = ["DataInfo", "NormalizationRecord", "OriginRecord", "RunFile", "RunFolder", "create_run_folder", "files",
           "is_run_folder", "list_runs", "open_run_folder"]
