# A generated source list, in the shape lock-file generators (node2nix, vim plugins) write.
{
  "left-pad" = { url = "https://npm.example.org/left-pad/-/left-pad-1.3.0.tgz"; sha512 = "XI5MPzVNApjAyhQzphX8BkmKsKUxD4LdyK24iZeQEg3KPvtdXnYqd+4Q5dY9dJ9ABGFtjf7t0Y9eFQpd5dK9Bw=="; };
  "is-number" = { url = "https://npm.example.org/is-number/-/is-number-7.0.0.tgz"; sha512 = "41Cifkg6e8TylSpdtTpeLVMqvSBEVzTttHvERD741+pnZ8ANv0004MRL43QKPDlK9cGvNp6NZWZUBlbGXYxxng=="; };
  "zlib" = { url = "https://zlib.net/fossils/zlib-1.3.1.tar.gz"; sha256 = "9a93b2b7dfdac77ceba5a558a580e74667dd6fede4585b91eefb60f03b72df23"; };
}
