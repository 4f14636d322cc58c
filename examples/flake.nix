{
  description = "A flake whose package fetches a zip and a patch";

  inputs.nixpkgs.url = "github:NixOS/nixpkgs/nixos-24.05";

  outputs = { self, nixpkgs }:
    let pkgs = nixpkgs.legacyPackages.x86_64-linux; in
    {
      packages.x86_64-linux.default = pkgs.stdenv.mkDerivation {
        pname = "demo";
        version = "1.0";
        src = pkgs.fetchzip {
          url = "https://example.org/releases/demo-1.0.zip";
          hash = "sha256-MO9T1ZK6MXTTfRN4vGLeF0s3YbDAtQQJ1DP0YijZ5v8=";
        };
        patches = [
          (pkgs.fetchpatch {
            url = "https://example.org/patches/fix-build.patch";
            hash = "sha256-AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=";
          })
        ];
      };
    };
}
