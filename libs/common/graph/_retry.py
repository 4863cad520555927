"""The retry policy Graph requests follow: the provider-neutral one of the mail port."""

from libs.common.mail.retry import RetryPolicy, parse_retry_after

__all__ = ["RetryPolicy", "parse_retry_after"]
