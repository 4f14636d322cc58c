# fetchFromGitHub with an SRI hash (recursive: the unpacked tree), and a vendored cargoHash.
{ lib, rustPlatform, fetchFromGitHub }:

rustPlatform.buildRustPackage rec {
  pname = "ripgrep";
  version = "14.1.0";

  src = fetchFromGitHub {
    owner = "BurntSushi";
    repo = pname;
    rev = version;
    hash = "sha256-CBU1GzgWMPTVsgaPMy39VRcENw5iWRUrRpjyuGiZpPI=";
  };

  cargoHash = "sha256-8FxN4MJxVSBX7Nl0Y8Gq6tAfxf7MqLwg0Ns4C4bnbFQ=";
}
