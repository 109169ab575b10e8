#pragma once
/// Locations: the skopeo-style strings users type to name an artifact
/// anywhere (`oci:DIR[:TAG]`, `oci-archive:FILE[:TAG]`,
/// `docker://HOST/REPO[:TAG|@DIGEST]`, or a bare TAG or digest in the local
/// store), parsed and opened in one place for the CLI and the Python
/// package, and the copy between two of them.

#include <filesystem>
#include <memory>
#include <string>
#include <string_view>

#include "sealrun/content/copy.h"
#include "sealrun/content/oci_archive.h"
#include "sealrun/content/oci_layout.h"
#include "sealrun/content/target.h"
#include "sealrun/remote/repository.h"

namespace sealrun {

/// Transport is the kind of place a location names.
enum class Transport {
    store,        ///< a bare TAG or digest: the local store (an OCI layout)
    oci_layout,   ///< oci:DIR[:TAG]
    oci_archive,  ///< oci-archive:FILE[:TAG]
    docker,       ///< docker://HOST/REPO[:TAG|@DIGEST]
};

/// LocationSpec is a parsed location string, nothing opened yet.
struct LocationSpec {
    /// text is the location as given.
    std::string text;
    Transport transport = Transport::store;
    /// path is the layout directory (oci:) or the tar file (oci-archive:);
    /// empty for the store (LocationOptions::store) and docker://.
    std::filesystem::path path;
    /// reference is the tag or digest; empty when none was given.
    std::string reference;
};

/// parse_location parses `text`; throws Error(invalid_input) for an oci:
/// without a directory, an oci-archive: without a file, an unknown
/// transport ("http://…"), a docker:// reference that does not parse, or a
/// bare word that is neither a tag nor a digest ("oci-achive:x.tar",
/// "ghcr.io/org/repo:v1" without docker://).
LocationSpec parse_location(std::string_view text);

/// default_store returns the local store: $SEALRUN_STORE when set and not
/// empty, else "storage" (relative to the working directory).
std::filesystem::path default_store();

/// LocationOptions says where the local store is and how registries are
/// reached; the zero value (store empty) means default_store().
struct LocationOptions {
    /// store is the local store bare tags name; empty: default_store().
    std::filesystem::path store;
    /// remote configures docker:// locations (TLS, plain HTTP, timeouts).
    remote::RepositoryOptions remote;
    /// base, when set (an absolute directory), resolves a relative store or
    /// oci: directory once, at open, so a later chdir does not move what a
    /// long-lived view reads (the Python package passes the working
    /// directory); messages still name the path as given. Empty: relative
    /// paths stay relative to the working directory of each access.
    std::filesystem::path base;
};

/// Access says how a layout is opened.
enum class Access {
    read,    ///< must exist; opened read-only: nothing is created or locked for writing
    update,  ///< must exist; writable (tag, rm, gc)
    create,  ///< created when absent (seal, import, copy destinations)
};

/// Location is one side of a transfer: a target and a reference in it.
/// Movable, not copyable; the target lives as long as the Location.
struct Location {
    /// text is the location as given.
    std::string text;
    /// transport is the kind of place (see Transport).
    Transport transport = Transport::store;
    /// target is what the location reads; a destination's is writable too
    /// (see writable()).
    std::unique_ptr<content::ReadOnlyTarget> target;
    /// reference is the tag or digest; empty when none was given.
    std::string reference;
    /// archive is the tar file of an oci-archive: location.
    std::filesystem::path archive;
    /// archive_writer is the target while an oci-archive is being written
    /// (a destination, or a source being tagged); commit() finishes it.
    content::OciArchiveWriter* archive_writer = nullptr;
    /// is_local_store is true for a bare TAG or digest.
    bool is_local_store = false;
    /// layout is the layout directory of oci: and of the local store.
    std::filesystem::path layout;

    Location() = default;
    Location(Location&&) noexcept;
    Location& operator=(Location&&) noexcept;
    ~Location();

    /// writable returns the target for writing: a destination's, a layout's
    /// opened for update, or, for an oci-archive read in place, a writer
    /// that carries its members over into a new archive (committed by
    /// commit()). Throws Error(denied) for other read-only targets.
    content::Target& writable();
    /// commit finishes an oci-archive being written: the new archive
    /// replaces FILE atomically. Without it (an error, a signal) FILE is
    /// left as it was and nothing else remains. Does nothing for other
    /// transports, whose writes land as they happen.
    void commit();
};

/// open_location opens what `spec` names. `for_writing` prepares a
/// destination (a layout is created when absent, an existing oci-archive is
/// added to); otherwise the location is read: the store or layout must exist
/// and is opened read-only, so a mistyped path creates nothing, and an
/// oci-archive is read in place. An existing file that is not an
/// oci-archive is refused as a destination with Error(already_exists)
/// naming --force unless `force` (then it is replaced).
Location open_location(const LocationSpec& spec, const LocationOptions& options, bool for_writing, bool force = false);
/// open_location parses `text` (see parse_location) and opens it.
Location open_location(std::string_view text, const LocationOptions& options, bool for_writing, bool force = false);

/// open_layout opens the OCI layout at `dir` (`store`: the local store) for
/// `access`; a missing one is Error(not_found) "no sealrun store" or "not an
/// OCI layout" unless `access` is create; a file there is Error(invalid_input).
/// `name` is how messages name it (default: `dir`).
std::unique_ptr<content::OciLayout> open_layout(const std::filesystem::path& dir, Access access, bool store,
                                                const std::string& name = {});

/// refuse_file throws Error(invalid_input) when `dir` (`store`: the local
/// store) is a file, so the user reads "is a file", not a failure inside it;
/// `name` is how the message names it (default: `dir`).
void refuse_file(const std::filesystem::path& dir, bool store, const std::string& name = {});

/// open_reader opens the layout at `dir` for reading (Access::read). A local
/// store (`store`) that holds records but has sealed nothing yet reads as
/// empty; nothing is created either way.
std::unique_ptr<content::Target> open_reader(const std::filesystem::path& dir, bool store, const std::string& name = {});

/// make_parent_dirs creates the missing folders above the output file `path`
/// ("sub/x.tar", "out/r.json"); a bare name ("x.tar") needs none. Throws
/// Error(io).
void make_parent_dirs(const std::filesystem::path& path);

/// default_tag is the tag a copy gives a destination that names none: the
/// source's tag, or, for a source named by digest, NAME-HEX where NAME is the
/// last component of the source's repository (docker://) or file name (oci:,
/// oci-archive:), "sealrun" for the local store, and HEX the digest's first
/// 12 hex digits, e.g. "sweep-4b1f2eaf6eef": a digest is never a tag, and an
/// untagged copy would be unreachable (gc frees it).
std::string default_tag(const Location& source);

/// import_tag is the local tag `sealrun import` gives an index.json entry
/// whose ref name (org.opencontainers.image.ref.name) is `ref_name` ("" when
/// it has none) and whose root is `digest`, read from the file or folder
/// named `file_stem` (docs/CLI.md, import):
///   - a ref name that is a valid tag is kept;
///   - a full reference (OMMX writes "ghcr.io/jij-inc/ommx/random_lp_instance:e69fb91")
///     becomes its repository's last component, "-" and its tag
///     ("random_lp_instance-e69fb91"), or the digest's first 12 hex digits
///     for REPO@sha256:..., or the last component alone when it has neither;
///   - no ref name: FILE_STEM-HEX12 (the file name and the digest's first
///     12 hex digits), as copy names what it copies by digest.
/// Bytes outside the tag grammar ([A-Za-z0-9_][A-Za-z0-9._-]{0,127}) become
/// '-', leading '.' and '-' are dropped, and the name part is shortened so
/// the whole fits in 128 bytes with its tag or digest part intact.
std::string import_tag(const std::string& ref_name, const std::string& file_stem, const oci::Digest& digest);

/// Transferred is what transfer() did.
struct Transferred {
    /// root is the descriptor of the copied root (manifest or index).
    oci::Descriptor root;
    /// tag is the tag the destination got.
    std::string tag;
    /// chosen_tag is true when sealrun chose `tag` (see default_tag).
    bool chosen_tag = false;
};

/// transfer copies what the location `source` names into `destination`
/// (empty: the local store under default_tag(source)) with content::copy and
/// commits the destination: `sealrun copy`, `push` and `pull`. The
/// destination's tag is its own, else default_tag(source). An archive
/// written from local content gets its members in the walk's order (the
/// same bytes every time). `force` moves a destination tag naming other
/// content and replaces a destination file that is not an oci-archive.
/// Throws Error(invalid_input) when the source names no tag or digest.
Transferred transfer(std::string_view source, std::string_view destination, const LocationOptions& options,
                     content::CopyOptions copy_options = {}, bool force = false);

}  // namespace sealrun
