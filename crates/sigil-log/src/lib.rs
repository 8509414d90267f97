//! The transparency-log service core for sigil: durable storage, C2SP tiles and checkpoint signing.
