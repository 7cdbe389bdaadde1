"""Historians: the storage contract and its backends."""

from core.storage.base import Historian, StorageError

__all__ = ["Historian", "StorageError"]
