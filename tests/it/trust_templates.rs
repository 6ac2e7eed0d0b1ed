//! Issue #11 (trust): templates. Bad-input cases use the catalogue helpers of `bad_input`.
