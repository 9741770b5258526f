// Module ids named by path relative to the build's context (not hashed from absolute paths), so the
// bundle is the same wherever the repository is checked out: CI compares it with the committed build.
module.exports = {
  optimization: { moduleIds: 'named', chunkIds: 'named' }
};
